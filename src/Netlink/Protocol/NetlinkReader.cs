using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.NetworkInformation;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using BranchEni.Netlink.Interop;

namespace BranchEni.Netlink.Protocol;

/// <summary>One message of a datagram: its header fields and the payload after nlmsghdr (already bounds-checked).</summary>
internal readonly ref struct NetlinkMessage
{
    public NetlinkMessage(ushort type, NlmFlags flags, uint sequence, uint portId, ReadOnlySpan<byte> payload)
    {
        Type = type;
        Flags = flags;
        Sequence = sequence;
        PortId = portId;
        Payload = payload;
    }

    public ushort Type { get; }

    public NlmFlags Flags { get; }

    public uint Sequence { get; }

    public uint PortId { get; }

    public ReadOnlySpan<byte> Payload { get; }

    /// <summary>Reads the fixed header that starts the payload; a short payload is a protocol error.</summary>
    public T ReadHeader<T>() where T : unmanaged
    {
        if (Payload.Length < Unsafe.SizeOf<T>())
        {
            Malformed.Throw($"payload of {Payload.Length} bytes is shorter than its {typeof(T).Name}");
        }

        return MemoryMarshal.Read<T>(Payload);
    }

    /// <summary>The attributes after a fixed header of <typeparamref name="T"/>.</summary>
    public AttributeReader Attributes<T>() where T : unmanaged
    {
        var offset = NetlinkWriter.Align(Unsafe.SizeOf<T>());
        return new AttributeReader(offset <= Payload.Length ? Payload[offset..] : default);
    }
}

/// <summary>
/// Walks the messages of one received datagram. Every nlmsg_len is checked against what is left before it is used;
/// a lie is a <see cref="NetlinkException"/> (EBADMSG), never an over-read.
/// </summary>
internal ref struct MessageReader
{
    private ReadOnlySpan<byte> _rest;

    public MessageReader(ReadOnlySpan<byte> datagram) => _rest = datagram;

    public bool TryRead(out NetlinkMessage message)
    {
        if (_rest.IsEmpty)
        {
            message = default;
            return false;
        }

        if (_rest.Length < Nlmsg.HeaderLength)
        {
            Malformed.Throw($"{_rest.Length} trailing bytes cannot hold a netlink header");
        }

        var header = MemoryMarshal.Read<NlMsgHdr>(_rest);
        if (header.Length < Nlmsg.HeaderLength || header.Length > _rest.Length)
        {
            Malformed.Throw($"nlmsg_len {header.Length} with {_rest.Length} bytes left");
        }

        var length = (int)header.Length;
        message = new NetlinkMessage(
            header.Type, (NlmFlags)header.Flags, header.Sequence, header.PortId, _rest[Nlmsg.HeaderLength..length]);
        var advance = NetlinkWriter.Align(length);
        _rest = advance >= _rest.Length ? default : _rest[advance..];
        return true;
    }
}

/// <summary>One attribute: type without the NESTED/BYTEORDER bits, and its validated payload.</summary>
internal readonly ref struct NetlinkAttribute
{
    public NetlinkAttribute(ushort type, ReadOnlySpan<byte> value)
    {
        Type = type;
        Value = value;
    }

    public ushort Type { get; }

    public ReadOnlySpan<byte> Value { get; }

    public byte AsUInt8() => Value.Length >= 1 ? Value[0] : Malformed.Throw<byte>(Type, 1, Value.Length);

    public ushort AsUInt16() =>
        Value.Length >= 2 ? BinaryPrimitives.ReadUInt16LittleEndian(Value) : Malformed.Throw<ushort>(Type, 2, Value.Length);

    public uint AsUInt32() =>
        Value.Length >= 4 ? BinaryPrimitives.ReadUInt32LittleEndian(Value) : Malformed.Throw<uint>(Type, 4, Value.Length);

    public int AsInt32() => (int)AsUInt32();

    /// <summary>A string attribute, up to its first NUL (the kernel NUL-terminates; tolerate a missing one).</summary>
    public string AsString()
    {
        var end = Value.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end >= 0 ? Value[..end] : Value);
    }

    public IPAddress AsAddress() =>
        Value.Length is 4 or 16 ? new IPAddress(Value) : Malformed.Throw<IPAddress>(Type, 4, Value.Length);

    public PhysicalAddress AsMac() => new(Value.ToArray());

    public AttributeReader Nested() => new(Value);
}

/// <summary>Walks a run of attributes, checking each nla_len before trusting it.</summary>
internal ref struct AttributeReader
{
    private ReadOnlySpan<byte> _rest;

    public AttributeReader(ReadOnlySpan<byte> attributes) => _rest = attributes;

    public bool TryRead(out NetlinkAttribute attribute)
    {
        // Fewer than a header's worth of trailing bytes is padding the kernel may leave; stop there.
        if (_rest.Length < Nla.HeaderLength)
        {
            attribute = default;
            return false;
        }

        var length = BinaryPrimitives.ReadUInt16LittleEndian(_rest);
        var type = (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(_rest[2..]) & Nla.TypeMask);
        if (length < Nla.HeaderLength || length > _rest.Length)
        {
            Malformed.Throw($"nla_len {length} of attribute {type} with {_rest.Length} bytes left");
        }

        attribute = new NetlinkAttribute(type, _rest[Nla.HeaderLength..length]);
        var advance = NetlinkWriter.Align(length);
        _rest = advance >= _rest.Length ? default : _rest[advance..];
        return true;
    }
}

/// <summary>Throw helpers for input that breaks the netlink framing rules.</summary>
internal static class Malformed
{
    [DoesNotReturn]
    public static void Throw(string what) =>
        throw new NetlinkException(Errno.EBADMSG, "decode netlink answer", what);

    [DoesNotReturn]
    public static T Throw<T>(ushort attribute, int expected, int actual) =>
        throw new NetlinkException(
            Errno.EBADMSG, "decode netlink answer", $"attribute {attribute} has {actual} bytes, expected {expected}");
}
