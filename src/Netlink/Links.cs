using System.Net.NetworkInformation;

namespace BranchEni.Netlink;

/// <summary>Interface flags (IFF_* from linux/if.h) as the kernel reports them in ifi_flags.</summary>
[Flags]
public enum LinkFlags : uint
{
    None = 0,
    Up = 0x1,
    Broadcast = 0x2,
    Loopback = 0x8,
    PointToPoint = 0x10,
    Running = 0x40,
    NoArp = 0x80,
    Promiscuous = 0x100,
    Multicast = 0x1000,
    LowerUp = 0x10000,
}

/// <summary>A network interface as the kernel describes it (one RTM_NEWLINK answer).</summary>
public sealed record Link
{
    /// <summary>The interface index, unique within its namespace.</summary>
    public required int Index { get; init; }

    /// <summary>IFLA_IFNAME.</summary>
    public required string Name { get; init; }

    /// <summary>IFLA_ADDRESS; null for links without one (for example some tunnels).</summary>
    public PhysicalAddress? Mac { get; init; }

    /// <summary>IFLA_MTU.</summary>
    public int Mtu { get; init; }

    /// <summary>ifi_flags.</summary>
    public LinkFlags Flags { get; init; }

    /// <summary>True when the administrative state is up (IFF_UP).</summary>
    public bool IsUp => (Flags & LinkFlags.Up) != 0;

    /// <summary>IFLA_INFO_KIND ("veth", "vlan", ...); null for links without one (loopback, physical).</summary>
    public string? Kind { get; init; }

    /// <summary>IFLA_VLAN_ID when <see cref="Kind"/> is "vlan".</summary>
    public int? VlanId { get; init; }

    /// <summary>IFLA_LINK: the parent (vlan) or peer (veth) index. It may refer to another namespace.</summary>
    public int? ParentIndex { get; init; }

    /// <summary>IFLA_IFALIAS.</summary>
    public string? Alias { get; init; }

    /// <summary>IFLA_MASTER (bridge or bond the link is enslaved to).</summary>
    public int? MasterIndex { get; init; }
}

/// <summary>What <see cref="NetlinkHandle.AddVethPair"/> creates.</summary>
public sealed record VethPairSpec
{
    /// <summary>Name of the side created in the handle's namespace (at most 15 bytes).</summary>
    public required string Name { get; init; }

    /// <summary>Name of the peer (at most 15 bytes).</summary>
    public required string PeerName { get; init; }

    /// <summary>MTU of both sides; null keeps the kernel default.</summary>
    public int? Mtu { get; init; }

    /// <summary>MAC of the first side; null lets the kernel pick a random one.</summary>
    public PhysicalAddress? Mac { get; init; }

    /// <summary>MAC of the peer; null lets the kernel pick a random one.</summary>
    public PhysicalAddress? PeerMac { get; init; }

    /// <summary>Namespace the peer is created in directly (IFLA_NET_NS_FD); null: the handle's namespace.</summary>
    public NetworkNamespace? PeerNamespace { get; init; }
}

/// <summary>What <see cref="NetlinkHandle.AddVlan"/> creates: an 802.1Q sub-interface of a parent link.</summary>
public sealed record VlanSpec
{
    /// <summary>Name of the new link (at most 15 bytes), e.g. "vlan.eth.7".</summary>
    public required string Name { get; init; }

    /// <summary>Index of the parent (trunk) link in the handle's namespace.</summary>
    public required int ParentIndex { get; init; }

    /// <summary>The 802.1Q id, 1..4094; anything else is refused before the kernel sees it.</summary>
    public required int VlanId { get; init; }

    /// <summary>MAC of the new link; null inherits the parent's.</summary>
    public PhysicalAddress? Mac { get; init; }

    /// <summary>MTU; null inherits the parent's.</summary>
    public int? Mtu { get; init; }

    /// <summary>Namespace the link is created in directly (IFLA_NET_NS_FD); null: the handle's namespace.</summary>
    public NetworkNamespace? Namespace { get; init; }
}
