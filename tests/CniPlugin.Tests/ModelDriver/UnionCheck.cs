using System.Net.Sockets;
using BranchEni.Contracts;
using BranchEni.Netlink;

namespace BranchEni.Cni.ModelDriver;

/// <summary>The node's IPv4 side read once: links, every table's routes, the rules; one moment for every model.</summary>
internal sealed class NodeSnapshot : IHostKernel
{
    public NodeSnapshot(NetlinkHandle node)
    {
        Links = node.ListLinks();
        Routes = node.ListRoutes(AddressFamily.InterNetwork);
        Rules = node.ListRules(AddressFamily.InterNetwork);
    }

    public IReadOnlyList<Link> Links { get; }

    public IReadOnlyList<Route> Routes { get; }

    public IReadOnlyList<Rule> Rules { get; }

    public Link? Link(string? name) => name is null ? null : Links.FirstOrDefault(l => l.Name == name);

    public Link? Link(int? index) => index is null ? null : Links.FirstOrDefault(l => l.Index == index);

    public IEnumerable<Route> RoutesOf(uint table) => Routes.Where(r => (r.Table ?? RouteTables.Main) == table);
}

/// <summary>
/// The property R2 checks after every step: the node's kernel is exactly the union of the live sandboxes' models.
/// Every object of every model is there (<see cref="BranchPlumbingComparison.HostDifferences"/>, the comparison CHECK
/// and `verify` use), and nothing of ours is there beyond them: no `vlan.eth.*` or VLAN link, no veth with our prefix,
/// no rule at our priorities or into a table 101..4194, no route in such a table, and no route out of one of those
/// links or to a pod's IP in main, that a live model does not account for, each model object matched at most once.
/// </summary>
internal static class UnionCheck
{
    public static List<string> Differences(NodeSnapshot kernel, IReadOnlyCollection<BranchPlumbing> live)
    {
        var problems = new List<string>();
        foreach (var model in live)
        {
            problems.AddRange(BranchPlumbingComparison.HostDifferences(model, kernel, Dot1QVlanLink.Instance)
                .Select(d => $"{model.ContainerId}: {d}"));
        }

        problems.AddRange(ExtraLinks(kernel, live));
        problems.AddRange(ExtraRules(kernel, live));
        problems.AddRange(ExtraRoutes(kernel, live));
        return problems;
    }

    /// <summary>Whether a link is a branch object by its look alone (what GC and `cleanup` go by).</summary>
    public static bool IsBranchLink(Link link) =>
        Dot1QVlanLink.Instance.IsKind(link) || link.Name.StartsWith(BranchKernelLayout.VlanLinkPrefix, StringComparison.Ordinal)
        || (link.Kind == "veth" && link.Name.StartsWith(BranchKernelLayout.DefaultVethPrefix, StringComparison.Ordinal)
            && link.Name.Length == BranchKernelLayout.DefaultVethPrefix.Length + BranchKernelLayout.VethHashLength);

    private static IEnumerable<string> ExtraLinks(NodeSnapshot kernel, IReadOnlyCollection<BranchPlumbing> live)
    {
        var expected = live.SelectMany(m => new[] { m.HostVeth, m.VlanLink }).ToHashSet(StringComparer.Ordinal);
        return kernel.Links.Where(l => IsBranchLink(l) && !expected.Contains(l.Name))
            .Select(l => $"extra link {l.Name} (kind {l.Kind ?? "none"}, alias '{l.Alias}') that no live sandbox has");
    }

    private static IEnumerable<string> ExtraRules(NodeSnapshot kernel, IReadOnlyCollection<BranchPlumbing> live)
    {
        var wanted = live.SelectMany(m => m.Rules).ToList();
        var matched = new HashSet<Rule>(ReferenceEqualityComparer.Instance);
        foreach (var rule in kernel.Rules.Where(IsOurRule))
        {
            var model = wanted.FirstOrDefault(w => !matched.Contains(w) && BranchPlumbingComparison.IsRule(rule, w));
            if (model is null)
            {
                yield return $"extra rule {PlumbingText.Rule(rule)} that no live sandbox has";
            }
            else
            {
                matched.Add(model);
            }
        }
    }

    private static bool IsOurRule(Rule rule) =>
        rule.Priority is BranchKernelLayout.StrictRulePriority or BranchKernelLayout.StandardToPodPriority or BranchKernelLayout.StandardFromPodPriority
        || BranchKernelLayout.VlanIdOfTable(rule.Table) is not null;

    private static IEnumerable<string> ExtraRoutes(NodeSnapshot kernel, IReadOnlyCollection<BranchPlumbing> live)
    {
        var ourLinks = kernel.Links.Where(IsBranchLink).Select(l => l.Index).ToHashSet();
        var podIps = live.Select(m => m.PodIp).ToHashSet();
        var expected = live.SelectMany(m => m.HostRoutes.Select(r => (Route: r, Index: kernel.Link(r.Device)?.Index))).ToList();
        var matched = new HashSet<int>();
        foreach (var route in kernel.Routes)
        {
            var ours = BranchKernelLayout.VlanIdOfTable(route.Table) is not null
                || (route.OutputIndex is { } o && ourLinks.Contains(o))
                || (route.Destination.PrefixLength == 32 && podIps.Contains(route.Destination.BaseAddress) && route.Table is null or RouteTables.Main);
            if (!ours)
            {
                continue;
            }

            var at = Enumerable.Range(0, expected.Count)
                .FirstOrDefault(i => !matched.Contains(i) && expected[i].Route.IsMatchedBy(route, expected[i].Index), -1);
            if (at < 0)
            {
                yield return $"extra {PlumbingText.Route(route with { Table = route.Table ?? RouteTables.Main }, i => kernel.Link(i)?.Name)} that no live sandbox has";
            }
            else
            {
                matched.Add(at);
            }
        }
    }
}
