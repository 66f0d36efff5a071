using System.Buffers.Binary;
using System.Net;
using System.Net.NetworkInformation;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using BranchEni.Netlink.Interop;

namespace BranchEni.Netlink.Protocol;

/// <summary>Where a message or nested attribute starts, so its length can be patched when it ends.</summary>
internal readonly struct LengthToken(int offset)
{
    public int Offset { get; } = offset;
}

/// <summary>
/// Builds netlink messages into a caller's span without allocating. Begin* returns a token; End* back-patches the
/// length once the contents are known, which is exactly how nested attributes work on the wire. Everything is
/// padded to 4 bytes (NLMSG_ALIGN / NLA_ALIGN). Integers are host byte order, as rtnetlink expects.
/// </summary>
internal ref struct NetlinkWriter
{
    private readonly Span<byte> _buffer;
    private int _length;

    public NetlinkWriter(Span<byte> buffer)
    {
        _buffer = buffer;
        _length = 0;
    }

    public readonly int Length => _length;

    public readonly ReadOnlySpan<byte> Written => _buffer[.._length];

    public LengthToken BeginMessage(RtmType type, NlmFlags flags, uint sequence = 0)
    {
        var token = new LengthToken(_length);
        Write(new NlMsgHdr { Type = (ushort)type, Flags = (ushort)flags, Sequence = sequence });
        return token;
    }

    public readonly void EndMessage(LengthToken token) =>
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer[token.Offset..], (uint)(_length - token.Offset));

    /// <summary>Writes a fixed header struct (ifinfomsg, rtmsg, ...), padded.</summary>
    public void Write<T>(in T header) where T : unmanaged
    {
        var size = Unsafe.SizeOf<T>();
        var target = Reserve(size);
        MemoryMarshal.Write(target, in header);
    }

    public LengthToken BeginNested(ushort type)
    {
        var token = new LengthToken(_length);
        WriteAttributeHeader(type, 0);
        return token;
    }

    public readonly void EndNested(LengthToken token) =>
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer[token.Offset..], (ushort)(_length - token.Offset));

    public void WriteUInt8(ushort type, byte value) => Attribute(type, 1)[0] = value;

    public void WriteUInt16(ushort type, ushort value) =>
        BinaryPrimitives.WriteUInt16LittleEndian(Attribute(type, 2), value);

    public void WriteUInt32(ushort type, uint value) =>
        BinaryPrimitives.WriteUInt32LittleEndian(Attribute(type, 4), value);

    public void WriteInt32(ushort type, int value) => WriteUInt32(type, (uint)value);

    /// <summary>A NUL-terminated string attribute (interface names, as iproute2 sends them).</summary>
    public void WriteString(ushort type, string value)
    {
        var length = Encoding.UTF8.GetByteCount(value);
        var target = Attribute(type, length + 1);
        Encoding.UTF8.GetBytes(value, target);
        target[length] = 0;
    }

    /// <summary>A string attribute without terminating NUL (NLA_STRING such as IFLA_INFO_KIND and IFLA_IFALIAS).</summary>
    public void WriteUnterminatedString(ushort type, string value)
    {
        var target = Attribute(type, Encoding.UTF8.GetByteCount(value));
        Encoding.UTF8.GetBytes(value, target);
    }

    public void WriteBytes(ushort type, scoped ReadOnlySpan<byte> value) => value.CopyTo(Attribute(type, value.Length));

    /// <summary>An IPv4 (4 bytes) or IPv6 (16 bytes) address in network byte order.</summary>
    public void WriteAddress(ushort type, IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        if (!address.TryWriteBytes(bytes, out var written))
        {
            throw new ArgumentException($"cannot encode address {address}", nameof(address));
        }

        WriteBytes(type, bytes[..written]);
    }

    // PhysicalAddress offers no span accessor; this copy is the one allocation on the request path.
    public void WriteMac(ushort type, PhysicalAddress mac) => WriteBytes(type, mac.GetAddressBytes());

    private Span<byte> Attribute(ushort type, int payloadLength)
    {
        WriteAttributeHeader(type, Nla.HeaderLength + payloadLength);
        return Reserve(payloadLength);
    }

    private void WriteAttributeHeader(ushort type, int length)
    {
        var header = Reserve(Nla.HeaderLength);
        BinaryPrimitives.WriteUInt16LittleEndian(header, (ushort)length);
        BinaryPrimitives.WriteUInt16LittleEndian(header[2..], type);
    }

    /// <summary>Returns the next <paramref name="size"/> bytes and zeroes the padding after them.</summary>
    private Span<byte> Reserve(int size)
    {
        var aligned = Align(size);
        if (_length + aligned > _buffer.Length)
        {
            ThrowTooLarge();
        }

        var span = _buffer.Slice(_length, aligned);
        span.Clear();
        _length += aligned;
        return span[..size];
    }

    public static int Align(int length) => (length + Nlmsg.Align - 1) & ~(Nlmsg.Align - 1);

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void ThrowTooLarge() =>
        throw new InvalidOperationException("netlink request does not fit its buffer");
}
