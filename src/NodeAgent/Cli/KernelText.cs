using System.Globalization;
using BranchEni.Contracts;
using BranchEni.Netlink;

namespace BranchEni.Agent.Cli;

/// <summary>Kernel objects written the way `ip rule` / `ip route` print them, so an operator can paste them back.</summary>
internal static class KernelText
{
    public static string Rule(Rule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        var selector = rule.IifName is { } iif ? $"iif {iif}"
            : rule.From is { } from ? $"from {from.BaseAddress}{Prefix(from)}"
            : rule.To is { } to ? $"to {to.BaseAddress}{Prefix(to)}"
            : "from all";
        return $"rule prio {rule.Priority?.ToString(CultureInfo.InvariantCulture) ?? "0"} {selector} lookup {Table(rule.Table)}";
    }

    public static string Route(Route route, NodeSnapshot node)
    {
        ArgumentNullException.ThrowIfNull(route);
        ArgumentNullException.ThrowIfNull(node);
        // Like `ip route`: a type other than unicast (the metadata deny route is `unreachable`) leads.
        var type = route.Type is RouteType.Unicast or RouteType.Unspecified ? "" : route.Type.ToString().ToLowerInvariant() + " ";
        var text = $"route {type}{(route.Destination.PrefixLength == 0 ? "default" : route.Destination.ToString())}";
        if (route.Gateway is { } gateway)
        {
            text += $" via {gateway}";
        }

        if (route.OutputIndex is { } index)
        {
            text += $" dev {node.Link(index)?.Name ?? "#" + index.ToString(CultureInfo.InvariantCulture)}";
        }

        return text + $" table {Table(route.Table)}";
    }

    public static string Link(Link link)
    {
        ArgumentNullException.ThrowIfNull(link);
        return string.IsNullOrEmpty(link.Alias) ? $"link {link.Name}" : $"link {link.Name} (owner {link.Alias})";
    }

    public static string Mac(Link? link) => link?.Mac is { } mac ? BranchEniAssignment.FormatMac(mac) : "none";

    public static string Table(uint? table) => table switch
    {
        null => "?",
        RouteTables.Main => "main",
        RouteTables.Local => "local",
        { } t => t.ToString(CultureInfo.InvariantCulture),
    };

    private static string Prefix(System.Net.IPNetwork network) =>
        network.PrefixLength == 32 ? "" : "/" + network.PrefixLength.ToString(CultureInfo.InvariantCulture);
}
