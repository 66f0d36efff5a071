using System.Net.Sockets;

namespace BranchEni.Netlink;

public sealed partial class NetlinkHandle
{
    /// <summary>Equivalent to: `ip route add DEST [via GW] [dev IFINDEX] [src SRC] [proto P] [scope S] [onlink]
    /// [metric M] table T`, e.g. `ip route add default via 10.0.0.1 dev vlan.eth.7 table 107`.</summary>
    public void AddRoute(Route route) => throw new NotImplementedException();

    /// <summary>Equivalent to: `ip route replace ...` (creates or overwrites).</summary>
    public void ReplaceRoute(Route route) => throw new NotImplementedException();

    /// <summary>Equivalent to: `ip route del DEST [via GW] [dev IFINDEX] table T`. Throws ESRCH when absent.</summary>
    public void DeleteRoute(Route route) => throw new NotImplementedException();

    /// <summary>Like <see cref="DeleteRoute"/>, where "no such route" is success; false if it was absent.</summary>
    public bool DeleteRouteIfExists(Route route) => throw new NotImplementedException();

    /// <summary>Equivalent to: `ip -4|-6 route show table T` (null: every table, like `table all`).</summary>
    public IReadOnlyList<Route> ListRoutes(AddressFamily family, uint? table = null) => throw new NotImplementedException();
}
