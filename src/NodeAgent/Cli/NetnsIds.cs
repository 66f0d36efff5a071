using System.Buffers.Binary;
using System.Runtime.InteropServices;
using BranchEni.Netlink;

namespace BranchEni.Agent.Cli;

/// <summary>
/// The two rtnetlink reads that tell which namespace a veth's peer lives in, which src/Netlink does not offer: a link's
/// IFLA_LINK_NETNSID, and RTM_GETNSID (the id this namespace gives another, named by an nsfs fd). Both ask the same
/// socket, bound to the node's namespace, so the ids are in the same numbering. Read-only; a few messages per pod.
/// </summary>
/// <remarks>Constants from include/uapi/linux/rtnetlink.h, if_link.h, net_namespace.h and netlink.h.</remarks>
internal sealed class NetnsIds : IDisposable
{
    private const int AfNetlink = 16;
    private const int SockRaw = 3;
    private const int SockCloexec = 0x80000;
    private const int NetlinkRoute = 0;
    private const ushort NlmsgError = 2;
    private const ushort RtmNewLink = 16;
    private const ushort RtmGetLink = 18;
    private const ushort RtmNewNsid = 88;
    private const ushort RtmGetNsid = 90;
    private const ushort NlmFRequest = 1;
    private const ushort IflaLinkNetnsid = 37;
    private const ushort NetnsaNsid = 1;
    private const ushort NetnsaFd = 3;

    private readonly int _fd;
    private uint _seq;

    private NetnsIds(int fd) => _fd = fd;

    /// <summary>A netlink socket created inside <paramref name="node"/> (a socket stays bound to its namespace).</summary>
    public static NetnsIds Open(NetworkNamespace node)
    {
        ArgumentNullException.ThrowIfNull(node);
        var fd = node.Run(() => Socket(AfNetlink, SockRaw | SockCloexec, NetlinkRoute));
        return fd < 0 ? throw new IOException($"netlink socket in {node.Path}: errno {Marshal.GetLastPInvokeError()}") : new NetnsIds(fd);
    }

    /// <summary>IFLA_LINK_NETNSID of a link: the id of the namespace holding its peer; null when the peer is local.</summary>
    public int? LinkNetnsId(int ifindex)
    {
        var request = new byte[32];
        var ifinfo = request.AsSpan(16);
        BinaryPrimitives.WriteInt32LittleEndian(ifinfo[4..], ifindex);
        return Ask(request, RtmGetLink, RtmNewLink, 16, IflaLinkNetnsid);
    }

    /// <summary>The id this namespace gives <paramref name="other"/>; null when none is assigned.</summary>
    public int? IdOf(NetworkNamespace other)
    {
        ArgumentNullException.ThrowIfNull(other);
        // nlmsghdr (16) + rtgenmsg (1, padded to 4) + NETNSA_FD attribute (4 + 4).
        var request = new byte[28];
        BinaryPrimitives.WriteUInt16LittleEndian(request.AsSpan(20), 8);
        BinaryPrimitives.WriteUInt16LittleEndian(request.AsSpan(22), NetnsaFd);
        BinaryPrimitives.WriteInt32LittleEndian(request.AsSpan(24), (int)other.Handle.DangerousGetHandle());
        var id = Ask(request, RtmGetNsid, RtmNewNsid, 4, NetnsaNsid);
        return id is < 0 ? null : id;
    }

    public void Dispose() => _ = Close(_fd);

    /// <summary>Sends one request and returns the int32 attribute <paramref name="attribute"/> of the answer.</summary>
    private int? Ask(byte[] request, ushort type, ushort answerType, int fixedHeader, ushort attribute)
    {
        var seq = ++_seq;
        BinaryPrimitives.WriteUInt32LittleEndian(request, (uint)request.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(request.AsSpan(4), type);
        BinaryPrimitives.WriteUInt16LittleEndian(request.AsSpan(6), NlmFRequest);
        BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(8), seq);
        if (Send(_fd, request, request.Length, 0) != request.Length)
        {
            throw new IOException($"netlink send: errno {Marshal.GetLastPInvokeError()}");
        }

        var buffer = new byte[16384];
        var length = Recv(_fd, buffer, buffer.Length, 0);
        if (length < 16)
        {
            throw new IOException($"netlink receive: errno {Marshal.GetLastPInvokeError()}");
        }

        var message = buffer.AsSpan(0, (int)Math.Min(length, BinaryPrimitives.ReadUInt32LittleEndian(buffer)));
        var answer = BinaryPrimitives.ReadUInt16LittleEndian(message[4..]);
        if (answer == NlmsgError || answer != answerType || BinaryPrimitives.ReadUInt32LittleEndian(message[8..]) != seq)
        {
            return null;
        }

        for (var at = 16 + fixedHeader; at + 4 <= message.Length;)
        {
            var attrLength = BinaryPrimitives.ReadUInt16LittleEndian(message[at..]);
            var attrType = (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(message[(at + 2)..]) & 0x3fff);
            if (attrLength < 4 || at + attrLength > message.Length)
            {
                break;
            }

            if (attrType == attribute && attrLength >= 8)
            {
                return BinaryPrimitives.ReadInt32LittleEndian(message[(at + 4)..]);
            }

            at += (attrLength + 3) & ~3;
        }

        return null;
    }

    // DllImport, not LibraryImport: blittable signatures (byte[] is pinned, not copied) need no generated stubs, and
    // this project is built without unsafe code.
    [DllImport("libc", EntryPoint = "socket", SetLastError = true)]
    private static extern int Socket(int domain, int type, int protocol);

    [DllImport("libc", EntryPoint = "send", SetLastError = true)]
    private static extern nint Send(int fd, [In] byte[] buffer, nint length, int flags);

    [DllImport("libc", EntryPoint = "recv", SetLastError = true)]
    private static extern nint Recv(int fd, [Out] byte[] buffer, nint length, int flags);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    private static extern int Close(int fd);
}
