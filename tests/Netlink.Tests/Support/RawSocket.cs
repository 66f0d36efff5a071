using BranchEni.Netlink.Interop;

namespace BranchEni.Netlink.Tests.Support;

/// <summary>A bare netlink socket for tests that need the kernel's datagrams byte for byte.</summary>
internal static unsafe class RawSocket
{
    /// <summary>Sends one dump request from the calling thread's namespace and returns every datagram up to NLMSG_DONE.</summary>
    public static List<byte[]> Dump(byte[] request)
    {
        var fd = Libc.Socket(Libc.AF_NETLINK, Libc.SOCK_RAW | Libc.SOCK_CLOEXEC, Libc.NETLINK_ROUTE);
        Assert.True(fd >= 0, $"socket: errno {Libc.LastErrno}");
        try
        {
            var kernel = new Libc.SockAddrNetlink { Family = Libc.AF_NETLINK };
            fixed (byte* data = request)
            {
                Assert.True(Libc.SendTo(fd, data, (nuint)request.Length, 0, &kernel, sizeof(Libc.SockAddrNetlink)) >= 0);
            }

            var datagrams = new List<byte[]>();
            var buffer = new byte[64 * 1024];
            while (true)
            {
                nint received;
                fixed (byte* data = buffer)
                {
                    received = Libc.RecvFrom(fd, data, (nuint)buffer.Length, 0, null, null);
                }

                Assert.True(received > 0, $"recvfrom: errno {Libc.LastErrno}");
                var datagram = buffer.AsSpan(0, (int)received).ToArray();
                datagrams.Add(datagram);
                if (EndsDump(datagram))
                {
                    return datagrams;
                }
            }
        }
        finally
        {
            Libc.Close(fd);
        }
    }

    /// <summary>The kernel may put NLMSG_DONE in the same datagram as the last answers, so walk every header.</summary>
    private static bool EndsDump(byte[] datagram)
    {
        for (var offset = 0; offset + 16 <= datagram.Length;)
        {
            var length = BitConverter.ToInt32(datagram, offset);
            if (BitConverter.ToUInt16(datagram, offset + 4) is Nlmsg.Done or Nlmsg.Error || length < 16)
            {
                return true;
            }

            offset += (length + 3) & ~3;
        }

        return false;
    }
}
