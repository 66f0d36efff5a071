using System.Net;
using System.Net.NetworkInformation;

namespace BranchEni.Netlink;

/// <summary>Neighbour cache entry state (NUD_* from linux/neighbour.h).</summary>
[Flags]
public enum NeighbourState : ushort
{
    None = 0,
    Incomplete = 0x01,
    Reachable = 0x02,
    Stale = 0x04,
    Delay = 0x08,
    Probe = 0x10,
    Failed = 0x20,
    NoArp = 0x40,
    Permanent = 0x80,
}

/// <summary>A neighbour (ARP / NDP) entry (one RTM_NEWNEIGH); the family is the address's.</summary>
public sealed record Neighbour
{
    /// <summary>The interface index.</summary>
    public required int LinkIndex { get; init; }

    /// <summary>NDA_DST.</summary>
    public required IPAddress Address { get; init; }

    /// <summary>NDA_LLADDR; null for entries without one (incomplete, failed).</summary>
    public PhysicalAddress? Mac { get; init; }

    /// <summary>ndm_state.</summary>
    public NeighbourState State { get; init; } = NeighbourState.Permanent;
}
