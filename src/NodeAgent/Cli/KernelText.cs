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
        ArgumentNullException.ThrowIfNull(node);
        return PlumbingText.Route(route, index => node.Link(index)?.Name);
    }

    public static string Link(Link link)
    {
        ArgumentNullException.ThrowIfNull(link);
        return string.IsNullOrEmpty(link.Alias) ? $"link {link.Name}" : $"link {link.Name} (owner {link.Alias})";
    }

    public static string Mac(Link? link) => PlumbingText.Mac(link?.Mac);

    public static string Table(uint? table) => PlumbingText.Table(table);
}
