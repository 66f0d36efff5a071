namespace BranchEni.Netlink.Interop;

/// <summary>IFLA_* link attributes (linux/if_link.h).</summary>
internal static class Ifla
{
    public const ushort Address = 1;
    public const ushort IfName = 3;
    public const ushort Mtu = 4;
    public const ushort Link = 5;
    public const ushort Master = 10;
    public const ushort IfAlias = 20;
    public const ushort LinkInfo = 18;
    public const ushort NetNsPid = 19;
    public const ushort NetNsFd = 28;
    public const ushort ExtMask = 29;
}

/// <summary>IFLA_INFO_* (linux/if_link.h).</summary>
internal static class IflaInfo
{
    public const ushort Kind = 1;
    public const ushort Data = 2;
}

/// <summary>IFLA_VLAN_* (linux/if_link.h).</summary>
internal static class IflaVlan
{
    public const ushort Id = 1;
}

/// <summary>VETH_INFO_* (linux/veth.h).</summary>
internal static class VethInfo
{
    public const ushort Peer = 1;
}

/// <summary>RTEXT_FILTER_* (linux/rtnetlink.h), what `ip -d link` asks for.</summary>
internal static class RtExtFilter
{
    public const uint Vf = 1;
    public const uint SkipStats = 8;
}

/// <summary>IFA_* address attributes and IFA_F_* flags (linux/if_addr.h).</summary>
internal static class Ifa
{
    public const ushort Address = 1;
    public const ushort Local = 2;
    public const ushort Label = 3;
    public const ushort Broadcast = 4;
    public const ushort Flags = 8;
    public const byte FNoDad = 0x02;
}

/// <summary>RTA_* route attributes and RTNH_F_* flags (linux/rtnetlink.h).</summary>
internal static class Rta
{
    public const ushort Dst = 1;
    public const ushort Src = 2;
    public const ushort Iif = 3;
    public const ushort Oif = 4;
    public const ushort Gateway = 5;
    public const ushort Priority = 6;
    public const ushort PrefSrc = 7;
    public const ushort Table = 15;
    public const uint FOnLink = 4;
}

/// <summary>FRA_* rule attributes (linux/fib_rules.h).</summary>
internal static class Fra
{
    public const ushort Dst = 1;
    public const ushort Src = 2;
    public const ushort IifName = 3;
    public const ushort Priority = 6;
    public const ushort FwMark = 10;
    public const ushort Table = 15;
    public const ushort FwMask = 16;
    public const ushort OifName = 17;
}

/// <summary>NDA_* neighbour attributes (linux/neighbour.h).</summary>
internal static class Nda
{
    public const ushort Dst = 1;
    public const ushort LlAddr = 2;
}
