using System.Buffers.Binary;
using System.Runtime.InteropServices;
using BranchEni.Netlink.Interop;
using BranchEni.Netlink.Protocol;

namespace BranchEni.Netlink.Tests.Support;

/// <summary>
/// Plays the kernel on the other end of a SOCK_SEQPACKET socketpair (which keeps datagram boundaries and ignores the
/// netlink destination address), so the socket's protocol handling can be driven through answers the real kernel
/// only gives by chance: interrupted dumps, stale sequence numbers, foreign port ids, oversized datagrams.
/// </summary>
internal sealed unsafe partial class FakeKernel : IDisposable
{
    public const uint PortId = 4242;
    private readonly int _kernelFd;
    private readonly Thread _thread;
    private readonly Func<int, uint, IEnumerable<byte[]>> _answer;

    /// <param name="answer">For the n-th request (from 0) and its sequence number, the datagrams to send back.</param>
    /// <param name="receiveTimeout">The library socket's receive timeout (its default when null).</param>
    public FakeKernel(Func<int, uint, IEnumerable<byte[]>> answer, TimeSpan? receiveTimeout = null)
    {
        _answer = answer;
        var fds = stackalloc int[2];
        if (SocketPair(1 /* AF_UNIX */, 5 /* SOCK_SEQPACKET */ | Libc.SOCK_CLOEXEC, 0, fds) != 0)
        {
            throw new InvalidOperationException($"socketpair: errno {Marshal.GetLastPInvokeError()}");
        }

        _kernelFd = fds[1];
        Handle = new NetlinkHandle(NetlinkSocket.FromDescriptor(fds[0], PortId, receiveTimeout));
        _thread = new Thread(Serve) { IsBackground = true, Name = "fake kernel" };
        _thread.Start();
    }

    public NetlinkHandle Handle { get; }

    private int _requests;

    public int Requests => Volatile.Read(ref _requests);

    public void Dispose()
    {
        Handle.Dispose();
        _thread.Join();
        Libc.Close(_kernelFd);
    }

    private void Serve()
    {
        var buffer = new byte[4096];
        while (true)
        {
            nint length;
            fixed (byte* data = buffer)
            {
                length = Libc.RecvFrom(_kernelFd, data, (nuint)buffer.Length, 0, null, null);
            }

            if (length <= 0)
            {
                return; // the library side closed
            }

            var sequence = BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(8));
            // Counted before answering: the library may return (and the test read the count) as soon as it is answered.
            var request = Requests;
            Interlocked.Increment(ref _requests);
            foreach (var datagram in _answer(request, sequence))
            {
                fixed (byte* data = datagram)
                {
                    _ = Libc.SendTo(_kernelFd, data, (nuint)datagram.Length, 0, null, 0);
                }
            }

        }
    }

    /// <summary>Builds one datagram of messages.</summary>
    public static byte[] Datagram(params byte[][] messages) => [.. messages.SelectMany(m => m)];

    public static byte[] NewLink(uint sequence, int index, string name, NlmFlags flags = NlmFlags.Multi, uint portId = PortId, string? alias = null)
    {
        var buffer = new byte[70_000];
        var w = new NetlinkWriter(buffer);
        var msg = w.BeginMessage(RtmType.NewLink, flags, sequence);
        w.Write(new IfInfoMsg { Index = index });
        w.WriteString(Ifla.IfName, name);
        w.WriteInt32(Ifla.Mtu, 1500);
        if (alias is not null)
        {
            w.WriteString(Ifla.IfAlias, alias);
        }

        w.EndMessage(msg);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(12), portId);
        return buffer.AsSpan(0, w.Length).ToArray();
    }

    public static byte[] Done(uint sequence, NlmFlags flags = NlmFlags.Multi, int status = 0)
    {
        var buffer = new byte[64];
        var w = new NetlinkWriter(buffer);
        var msg = w.BeginMessage((RtmType)Nlmsg.Done, flags, sequence);
        w.Write(status);
        w.EndMessage(msg);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(12), PortId);
        return buffer.AsSpan(0, w.Length).ToArray();
    }

    public static byte[] Ack(uint sequence, int errno = 0, string? text = null, uint portId = PortId)
    {
        var buffer = new byte[512];
        var w = new NetlinkWriter(buffer);
        var msg = w.BeginMessage((RtmType)Nlmsg.Error, text is null ? NlmFlags.Capped : NlmFlags.Capped | NlmFlags.AckTlvs, sequence);
        w.Write(-errno);
        w.Write(new NlMsgHdr { Length = 32, Type = (ushort)RtmType.NewLink, Sequence = sequence, PortId = PortId });
        if (text is not null)
        {
            w.WriteString(NlmsgErrAttr.Msg, text);
        }

        w.EndMessage(msg);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(12), portId);
        return buffer.AsSpan(0, w.Length).ToArray();
    }

    [LibraryImport("libc", EntryPoint = "socketpair", SetLastError = true)]
    private static partial int SocketPair(int domain, int type, int protocol, int* fds);
}
