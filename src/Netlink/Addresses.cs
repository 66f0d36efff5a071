using System.Net;

namespace BranchEni.Netlink;

/// <summary>Address scope (RT_SCOPE_* from linux/rtnetlink.h), shared by addresses and routes.</summary>
public enum Scope : byte
{
    Universe = 0,
    Site = 200,
    Link = 253,
    Host = 254,
    Nowhere = 255,
}

/// <summary>An IP address on an interface (one RTM_NEWADDR), IPv4 or IPv6.</summary>
public sealed record InterfaceAddress
{
    /// <summary>The interface index.</summary>
    public required int LinkIndex { get; init; }

    /// <summary>The local address (IFA_LOCAL for IPv4, IFA_ADDRESS for IPv6).</summary>
    public required IPAddress Address { get; init; }

    /// <summary>Prefix length: 0..32 for IPv4, 0..128 for IPv6.</summary>
    public required int PrefixLength { get; init; }

    /// <summary>ifa_scope.</summary>
    public Scope Scope { get; init; } = Scope.Universe;

    /// <summary>IFA_F_NODAD: skip IPv6 duplicate address detection (ignored by the kernel for IPv4).</summary>
    public bool NoDad { get; init; }
}
