using System.Net.Sockets;
using System.Text;
using BranchEni.Netlink.Protocol;

namespace BranchEni.Netlink;

public sealed partial class NetlinkHandle
{
    /// <summary>Equivalent to: `ip route add DEST [via GW] [dev IFINDEX] [src SRC] [proto P] [scope S] [onlink]
    /// [metric M] table T`, e.g. `ip route add default via 10.0.0.1 dev vlan.eth.7 table 107`.</summary>
    public void AddRoute(Route route) => ChangeRoute(route, RouteVerb.Add, ignoreMissing: false);

    /// <summary>Equivalent to: `ip route replace ...` (creates or overwrites).</summary>
    public void ReplaceRoute(Route route) => ChangeRoute(route, RouteVerb.Replace, ignoreMissing: false);

    /// <summary>Equivalent to: `ip route del DEST [via GW] [dev IFINDEX] table T`. Throws ESRCH when absent.</summary>
    public void DeleteRoute(Route route) => ChangeRoute(route, RouteVerb.Delete, ignoreMissing: false);

    /// <summary>Like <see cref="DeleteRoute"/>, where "no such route" is success; false if it was absent.</summary>
    public bool DeleteRouteIfExists(Route route) => ChangeRoute(route, RouteVerb.Delete, ignoreMissing: true);

    /// <summary>Equivalent to: `ip -4|-6 route show table T` (null: every table, like `table all`).</summary>
    public IReadOnlyList<Route> ListRoutes(AddressFamily family, uint? table = null)
    {
        Span<byte> buffer = stackalloc byte[RequestBufferSize];
        var length = RouteCodec.Dump(buffer, family);
        var all = Dump(buffer[..length], "ip route show table all", RouteCodec.Parse);
        return table is { } id ? all.FindAll(r => r.Table == id) : all;
    }

    private bool ChangeRoute(Route route, RouteVerb verb, bool ignoreMissing)
    {
        ArgumentNullException.ThrowIfNull(route);
        var family = route.Destination.BaseAddress.AddressFamily;
        if ((route.Gateway is { } gateway && gateway.AddressFamily != family) ||
            (route.Source is { } source && source.AddressFamily != family))
        {
            throw new ArgumentException($"gateway and source must be of the destination's family ({route.Destination})", nameof(route));
        }

        if (route.OutputIndex is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(route), route.OutputIndex, "output interface index must be positive");
        }

        Span<byte> buffer = stackalloc byte[RequestBufferSize];
        var length = RouteCodec.Change(buffer, route, verb);
        return ExecuteUnlessMissing(buffer[..length], ignoreMissing ? Errno.ESRCH : null, (route, verb), static s => Describe(s.route, s.verb));
    }

    private static string Describe(Route route, RouteVerb verb)
    {
        var text = new StringBuilder("ip ");
        text.Append(route.Destination.BaseAddress.AddressFamily == AddressFamily.InterNetworkV6 ? "-6 " : "")
            .Append("route ").Append(verb switch { RouteVerb.Add => "add", RouteVerb.Replace => "replace", _ => "del" })
            .Append(' ').Append(route.Destination.PrefixLength == 0 ? "default" : route.Destination.ToString());
        if (route.Gateway is { } gateway)
        {
            text.Append(" via ").Append(gateway);
        }

        if (route.OutputIndex is { } oif)
        {
            text.Append(" dev ").Append(oif);
        }

        if (route.Source is { } source)
        {
            text.Append(" src ").Append(source);
        }

        if (route.Scope is { } scope)
        {
            text.Append(" scope ").Append(scope.ToString().ToLowerInvariant());
        }

        if (route.OnLink)
        {
            text.Append(" onlink");
        }

        return text.Append(" table ").Append(route.Table ?? RouteTables.Main).ToString();
    }
}
