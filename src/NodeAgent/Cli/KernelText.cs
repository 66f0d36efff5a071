using System.Globalization;
using BranchEni.Contracts;
using BranchEni.Netlink;

namespace BranchEni.Agent.Cli;

/// <summary>Kernel objects written the way `ip rule` / `ip route` print them (<see cref="PlumbingText"/>), routes with the
/// device names of a snapshot.</summary>
internal static class KernelText
{
    public static string Rule(Rule rule) => PlumbingText.Rule(rule);

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

    public static string Mac(Link? link) => PlumbingText.Mac(link?.Mac);

    public static string Table(uint? table) => PlumbingText.Table(table);
}
