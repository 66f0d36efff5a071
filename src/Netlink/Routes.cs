using System.Net;

namespace BranchEni.Netlink;

/// <summary>Well-known routing tables (RT_TABLE_* from linux/rtnetlink.h); any other uint is a table id too.</summary>
public static class RouteTables
{
    public const uint Default = 253;
    public const uint Main = 254;
    public const uint Local = 255;
}

/// <summary>Who installed a route (RTPROT_* from linux/rtnetlink.h).</summary>
public enum RouteProtocol : byte
{
    Unspecified = 0,
    Redirect = 1,
    Kernel = 2,
    Boot = 3,
    Static = 4,
}

/// <summary>Route type (RTN_* from linux/rtnetlink.h).</summary>
public enum RouteType : byte
{
    Unspecified = 0,
    Unicast = 1,
    Local = 2,
    Broadcast = 3,
    Anycast = 4,
    Multicast = 5,
    Blackhole = 6,
    Unreachable = 7,
    Prohibit = 8,
    Throw = 9,
    Nat = 10,
}

/// <summary>A route (one RTM_NEWROUTE), IPv4 or IPv6; the family is the destination's.</summary>
public sealed record Route
{
    /// <summary>The destination network; 0.0.0.0/0 or ::/0 is the default route.</summary>
    public required IPNetwork Destination { get; init; }

    /// <summary>Routing table; null means main (254).</summary>
    public uint? Table { get; init; }

    /// <summary>rtm_scope; null chooses like `ip route` does: link without a gateway, universe with one.</summary>
    public Scope? Scope { get; init; }

    /// <summary>RTA_GATEWAY ("via").</summary>
    public IPAddress? Gateway { get; init; }

    /// <summary>RTA_OIF ("dev").</summary>
    public int? OutputIndex { get; init; }

    /// <summary>RTA_PREFSRC ("src").</summary>
    public IPAddress? Source { get; init; }

    /// <summary>rtm_protocol ("proto"); null means boot, as `ip route add` does.</summary>
    public RouteProtocol? Protocol { get; init; }

    /// <summary>RTNH_F_ONLINK: the gateway is reachable on the device without a covering route.</summary>
    public bool OnLink { get; init; }

    /// <summary>RTA_PRIORITY ("metric").</summary>
    public uint? Metric { get; init; }

    /// <summary>rtm_type.</summary>
    public RouteType Type { get; init; } = RouteType.Unicast;
}
