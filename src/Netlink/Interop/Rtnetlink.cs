namespace BranchEni.Netlink.Interop;

/// <summary>Message types and flags from linux/netlink.h and linux/rtnetlink.h.</summary>
internal static class Nlmsg
{
    // linux/netlink.h
    public const ushort Noop = 1;
    public const ushort Error = 2;
    public const ushort Done = 3;
    public const ushort Overrun = 4;
    public const int HeaderLength = 16;
    public const int Align = 4;
}

/// <summary>nlmsg_flags (linux/netlink.h).</summary>
[Flags]
internal enum NlmFlags : ushort
{
    None = 0,
    Request = 0x1,
    Multi = 0x2,
    Ack = 0x4,
    Echo = 0x8,
    DumpIntr = 0x10,
    DumpFiltered = 0x20,
    // GET requests
    Root = 0x100,
    Match = 0x200,
    Dump = Root | Match,
    // NEW requests
    Replace = 0x100,
    Excl = 0x200,
    Create = 0x400,
    Append = 0x800,
    // ACK messages
    Capped = 0x100,
    AckTlvs = 0x200,
}

/// <summary>rtnetlink message types (linux/rtnetlink.h).</summary>
internal enum RtmType : ushort
{
    NewLink = 16,
    DelLink = 17,
    GetLink = 18,
    SetLink = 19,
    NewAddr = 20,
    DelAddr = 21,
    GetAddr = 22,
    NewRoute = 24,
    DelRoute = 25,
    GetRoute = 26,
    NewNeigh = 28,
    DelNeigh = 29,
    GetNeigh = 30,
    NewRule = 32,
    DelRule = 33,
    GetRule = 34,
}

/// <summary>enum nlmsgerr_attrs (linux/netlink.h).</summary>
internal static class NlmsgErrAttr
{
    public const ushort Msg = 1;
    public const ushort Offset = 2;
}

/// <summary>struct nlattr type bits (linux/netlink.h).</summary>
internal static class Nla
{
    public const ushort FNested = 0x8000;
    public const ushort FNetByteOrder = 0x4000;
    public const ushort TypeMask = 0x3fff;
    public const int HeaderLength = 4;
}

/// <summary>Address families (bits/socket.h).</summary>
internal static class Af
{
    public const byte Unspec = 0;
    public const byte Inet = 2;
    public const byte Packet = 17;
    public const byte Inet6 = 10;
}
