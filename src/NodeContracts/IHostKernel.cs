using BranchEni.Netlink;

namespace BranchEni.Contracts;

/// <summary>
/// The node's side of the kernel as <see cref="BranchPlumbingComparison"/> reads it (IPv4): CHECK reads it live and
/// lazily (<see cref="LiveHostKernel"/>), so it asks no more than its first difference needs; `verify` reads the node
/// once (its NodeSnapshot), so every pod is compared with the same moment.
/// </summary>
internal interface IHostKernel
{
    IReadOnlyList<Link> Links { get; }

    Link? Link(string? name);

    Link? Link(int? index);

    /// <summary>The IPv4 routes of one table.</summary>
    IEnumerable<Route> RoutesOf(uint table);

    /// <summary>The IPv4 policy rules.</summary>
    IReadOnlyList<Rule> Rules { get; }
}

/// <summary>The host's kernel read through a netlink handle when asked, each table and the rules at most once.</summary>
internal sealed class LiveHostKernel(NetlinkHandle host) : IHostKernel
{
    private readonly Dictionary<uint, IReadOnlyList<Route>> tables = [];
    private IReadOnlyList<Rule>? rules;
    private IReadOnlyList<Link>? links;

    public IReadOnlyList<Link> Links => links ??= host.ListLinks();

    public Link? Link(string? name) => name is null ? null : host.TryGetLink(name);

    public Link? Link(int? index) => index is { } i ? host.TryGetLink(i) : null;

    public IEnumerable<Route> RoutesOf(uint table)
    {
        if (!tables.TryGetValue(table, out var routes))
        {
            routes = host.ListRoutes(System.Net.Sockets.AddressFamily.InterNetwork, table);
            tables[table] = routes;
        }

        return routes;
    }

    public IReadOnlyList<Rule> Rules => rules ??= host.ListRules(System.Net.Sockets.AddressFamily.InterNetwork);
}
