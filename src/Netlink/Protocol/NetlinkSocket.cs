using System.Buffers.Binary;
using BranchEni.Netlink.Interop;

namespace BranchEni.Netlink.Protocol;

/// <summary>Called for each answer of a dump; the message is only valid during the call.</summary>
internal delegate void DumpHandler<TState>(in NetlinkMessage message, TState state);

/// <summary>
/// A NETLINK_ROUTE socket in the namespace of the thread that created it: sends requests, matches answers by sequence
/// number and port id, turns NLMSG_ERROR into <see cref="NetlinkException"/> with the kernel's extended-ack text,
/// collects multipart dumps and restarts dumps the kernel marks interrupted. One request at a time per socket.
/// </summary>
internal sealed unsafe class NetlinkSocket : IDisposable
{
    private const int MaxDumpAttempts = 10;

    /// <summary>
    /// One datagram is read in one call into a buffer this size. The kernel caps a dump's datagrams at 32 KiB
    /// (netlink_recvmsg's max_recvmsg_len) and the single answers we ask for (links without VF data, routes, rules,
    /// acks with a capped echo) are far smaller, so 64 KiB holds any of them; a larger one is reported (EMSGSIZE),
    /// never cut short silently.
    /// </summary>
    internal const int ReceiveBufferSize = 64 * 1024;

    /// <summary>How long a request waits for the kernel's answer. The kernel answers in microseconds to
    /// milliseconds (seconds when the rtnl lock is contended); a reply it never sends must not hang a CNI call until the
    /// runtime kills it without an answer.</summary>
    public static readonly TimeSpan DefaultReceiveTimeout = TimeSpan.FromSeconds(30);

    private readonly NetlinkSocketHandle _handle;
    private readonly Lock _gate = new();
    private readonly byte[] _receiveBuffer = new byte[ReceiveBufferSize];
    private readonly TimeSpan _receiveTimeout;
    private uint _sequence;

    private NetlinkSocket(NetlinkSocketHandle handle, uint portId, TimeSpan receiveTimeout)
    {
        _handle = handle;
        PortId = portId;
        _receiveTimeout = receiveTimeout;
        _sequence = (uint)Environment.TickCount;
        SetReceiveTimeout(Fd, receiveTimeout);
    }

    /// <summary>The port id the kernel assigned at bind.</summary>
    public uint PortId { get; }

    /// <summary>Creates and binds a socket in the calling thread's namespace.</summary>
    public static NetlinkSocket Create()
    {
        var fd = Libc.Socket(Libc.AF_NETLINK, Libc.SOCK_RAW | Libc.SOCK_CLOEXEC, Libc.NETLINK_ROUTE);
        if (fd < 0)
        {
            throw new NetlinkException(Libc.LastErrno, "socket(AF_NETLINK, NETLINK_ROUTE)");
        }

        var handle = new NetlinkSocketHandle(fd);
        try
        {
            int one = 1;
            // Extended ack gives the kernel's reason in words; CAP_ACK keeps errors from echoing the whole request.
            SetOption(fd, Libc.SOL_NETLINK, Libc.NETLINK_EXT_ACK, one);
            SetOption(fd, Libc.SOL_NETLINK, Libc.NETLINK_CAP_ACK, one);
            var address = new Libc.SockAddrNetlink { Family = Libc.AF_NETLINK };
            if (Libc.Bind(fd, &address, sizeof(Libc.SockAddrNetlink)) != 0)
            {
                throw new NetlinkException(Libc.LastErrno, "bind(AF_NETLINK)");
            }

            var length = sizeof(Libc.SockAddrNetlink);
            if (Libc.GetSockName(fd, &address, &length) != 0)
            {
                throw new NetlinkException(Libc.LastErrno, "getsockname(AF_NETLINK)");
            }

            return new NetlinkSocket(handle, address.PortId, DefaultReceiveTimeout);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    private static void SetOption(int fd, int level, int name, int value)
    {
        if (Libc.SetSockOpt(fd, level, name, &value, sizeof(int)) != 0)
        {
            throw new NetlinkException(Libc.LastErrno, $"setsockopt(SOL_NETLINK, {name})");
        }
    }

    private static void SetReceiveTimeout(int fd, TimeSpan timeout)
    {
        var value = new Libc.TimeVal
        {
            Seconds = timeout.Ticks / TimeSpan.TicksPerSecond,
            Microseconds = timeout.Ticks % TimeSpan.TicksPerSecond / TimeSpan.TicksPerMicrosecond,
        };
        if (Libc.SetSockOpt(fd, Libc.SOL_SOCKET, Libc.SO_RCVTIMEO, &value, sizeof(Libc.TimeVal)) != 0)
        {
            throw new NetlinkException(Libc.LastErrno, "setsockopt(SOL_SOCKET, SO_RCVTIMEO)");
        }
    }

    /// <summary>Adopts a connected descriptor that speaks netlink framing (tests: a socketpair playing the kernel).</summary>
    internal static NetlinkSocket FromDescriptor(int fd, uint portId, TimeSpan? receiveTimeout = null) =>
        new(new NetlinkSocketHandle(fd), portId, receiveTimeout ?? DefaultReceiveTimeout);

    /// <summary>Sends one request that asks for an ACK and returns 0 or the positive errno the kernel answered.</summary>
    /// <param name="request">A complete message; its sequence and port id fields are filled in here.</param>
    /// <param name="extendedAck">The kernel's NLMSGERR_ATTR_MSG text, when it gave one.</param>
    public int Execute(Span<byte> request, out string? extendedAck)
    {
        lock (_gate)
        {
            var sequence = Stamp(request);
            Send(request);
            while (true)
            {
                var reader = new MessageReader(Receive());
                while (reader.TryRead(out var message))
                {
                    if (!IsOurs(message, sequence))
                    {
                        continue;
                    }

                    if (message.Type == Nlmsg.Error)
                    {
                        return ParseError(message, out extendedAck);
                    }
                }
            }
        }
    }

    /// <summary>Sends a request that is answered by one message (RTM_GETLINK for one link) and hands that message to
    /// <paramref name="handler"/>; returns 0, or the positive errno when the kernel answered NLMSG_ERROR.</summary>
    public int Query<TState>(Span<byte> request, TState state, DumpHandler<TState> handler, out string? extendedAck)
    {
        lock (_gate)
        {
            var sequence = Stamp(request);
            Send(request);
            while (true)
            {
                var reader = new MessageReader(Receive());
                while (reader.TryRead(out var message))
                {
                    if (!IsOurs(message, sequence) || message.Type is Nlmsg.Noop)
                    {
                        continue;
                    }

                    if (message.Type == Nlmsg.Error)
                    {
                        var errno = ParseError(message, out extendedAck);
                        return errno == 0 ? Errno.ENODATA : errno;
                    }

                    extendedAck = null;
                    handler(in message, state);
                    return 0;
                }
            }
        }
    }

    /// <summary>Sends a dump request and calls <paramref name="handler"/> for every answer. When the kernel marks the
    /// dump interrupted (its tables changed meanwhile) <paramref name="restart"/> runs and the dump is repeated.</summary>
    public void Dump<TState>(Span<byte> request, string operation, TState state, DumpHandler<TState> handler, Action<TState> restart)
    {
        lock (_gate)
        {
            for (var attempt = 1; ; attempt++)
            {
                if (!DumpOnce(request, operation, state, handler))
                {
                    return;
                }

                if (attempt == MaxDumpAttempts)
                {
                    throw new NetlinkException(Errno.EINTR, operation, $"dump interrupted {attempt} times in a row");
                }

                restart(state);
            }
        }
    }

    /// <summary>Returns true when the dump was interrupted and must be repeated.</summary>
    private bool DumpOnce<TState>(Span<byte> request, string operation, TState state, DumpHandler<TState> handler)
    {
        var sequence = Stamp(request);
        Send(request);
        var interrupted = false;
        while (true)
        {
            var reader = new MessageReader(Receive());
            while (reader.TryRead(out var message))
            {
                if (!IsOurs(message, sequence))
                {
                    continue;
                }

                interrupted |= (message.Flags & NlmFlags.DumpIntr) != 0;
                switch (message.Type)
                {
                    case Nlmsg.Done:
                        // NLMSG_DONE may carry an error code (an int) when the dump itself failed.
                        var status = message.Payload.Length >= 4 ? BinaryPrimitives.ReadInt32LittleEndian(message.Payload) : 0;
                        if (status < 0)
                        {
                            throw new NetlinkException(-status, operation);
                        }

                        return interrupted;
                    case Nlmsg.Error:
                        var errno = ParseError(message, out var ack);
                        throw new NetlinkException(errno == 0 ? Errno.EPROTO : errno, operation, ack);
                    case Nlmsg.Noop or Nlmsg.Overrun:
                        continue;
                    default:
                        handler(in message, state);
                        break;
                }
            }
        }
    }

    private bool IsOurs(in NetlinkMessage message, uint sequence) =>
        message.Sequence == sequence && (message.PortId == PortId || message.PortId == 0);

    private uint Stamp(Span<byte> request)
    {
        var sequence = ++_sequence;
        BinaryPrimitives.WriteUInt32LittleEndian(request[8..], sequence);
        BinaryPrimitives.WriteUInt32LittleEndian(request[12..], PortId);
        return sequence;
    }

    private void Send(ReadOnlySpan<byte> request)
    {
        var kernel = new Libc.SockAddrNetlink { Family = Libc.AF_NETLINK };
        fixed (byte* data = request)
        {
            while (true)
            {
                var sent = Libc.SendTo(Fd, data, (nuint)request.Length, 0, &kernel, sizeof(Libc.SockAddrNetlink));
                if (sent >= 0)
                {
                    return;
                }

                var errno = Libc.LastErrno;
                if (errno != Errno.EINTR)
                {
                    throw new NetlinkException(errno, "sendto(netlink)");
                }
            }
        }
    }

    /// <summary>Receives one datagram from the kernel into the reused buffer, in one call. Datagrams from anything
    /// but the kernel (port 0) are dropped.</summary>
    private ReadOnlySpan<byte> Receive()
    {
        while (true)
        {
            var length = ReceiveOnce(out var from);
            if (from == 0)
            {
                return _receiveBuffer.AsSpan(0, length);
            }
        }
    }

    private int ReceiveOnce(out uint fromPort)
    {
        var from = default(Libc.SockAddrNetlink);
        var fromLength = sizeof(Libc.SockAddrNetlink);
        fixed (byte* data = _receiveBuffer)
        {
            while (true)
            {
                // MSG_TRUNC: the datagram's real length comes back even when it did not fit.
                var received = Libc.RecvFrom(Fd, data, (nuint)_receiveBuffer.Length, Libc.MSG_TRUNC, &from, &fromLength);
                if (received > _receiveBuffer.Length)
                {
                    throw new NetlinkException(Errno.EMSGSIZE, "recvfrom(netlink)", $"a {received}-byte datagram does not fit the {_receiveBuffer.Length}-byte buffer");
                }

                if (received >= 0)
                {
                    fromPort = from.PortId;
                    return (int)received;
                }

                var errno = Libc.LastErrno;
                if (errno == Errno.EAGAIN)
                {
                    throw new NetlinkException(Errno.ETIMEDOUT, "recvfrom(netlink)", $"no answer from the kernel within {_receiveTimeout.TotalSeconds:0.###} s");
                }

                if (errno != Errno.EINTR)
                {
                    throw new NetlinkException(errno, "recvfrom(netlink)");
                }
            }
        }
    }

    /// <summary>Reads struct nlmsgerr and the NLMSGERR_ATTR_MSG text after the (capped) echoed request.</summary>
    internal static int ParseError(in NetlinkMessage message, out string? extendedAck)
    {
        extendedAck = null;
        var payload = message.Payload;
        if (payload.Length < 4 + Nlmsg.HeaderLength)
        {
            Malformed.Throw($"NLMSG_ERROR of {payload.Length} bytes");
        }

        var error = BinaryPrimitives.ReadInt32LittleEndian(payload);
        if ((message.Flags & NlmFlags.AckTlvs) != 0)
        {
            var echoed = (message.Flags & NlmFlags.Capped) != 0
                ? Nlmsg.HeaderLength
                : NetlinkWriter.Align((int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(payload[4..]), int.MaxValue));
            var offset = 4 + echoed;
            if (offset >= 4 + Nlmsg.HeaderLength && offset <= payload.Length)
            {
                var attributes = new AttributeReader(payload[offset..]);
                while (attributes.TryRead(out var attribute))
                {
                    if (attribute.Type == NlmsgErrAttr.Msg)
                    {
                        extendedAck = attribute.AsString();
                    }
                }
            }
        }

        return error < 0 ? -error : error;
    }

    private int Fd => (int)_handle.DangerousGetHandle();

    public void Dispose() => _handle.Dispose();
}
