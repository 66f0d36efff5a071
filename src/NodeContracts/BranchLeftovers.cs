using System.Net;
using BranchEni.Netlink;

namespace BranchEni.Contracts;

/// <summary>
/// A branch pod whose plumbing is to go, described by what the caller knows of it. DEL knows its container id and
/// may know its VLAN, host veth and address (prevResult, the record); GC knows only the container ids it was not
/// given; the agent's `cleanup` knows only VLANs that no record holds with a live sandbox.
/// </summary>
internal sealed record GoneBranch(string Why)
{
    /// <summary>The owner alias its links carry. Null: the owner is unknown and the links of <see cref="VlanIds"/> go
    /// whatever their alias (`cleanup`: no live pod holds those VLANs).</summary>
    public string? ContainerId { get; init; }

    public IReadOnlyCollection<int> VlanIds { get; init; } = [];

    /// <summary>Host veth names known to be its: they go when they carry its alias or none (an ADD killed before it
    /// set the alias), and rules naming them go even when the link is already gone.</summary>
    public IReadOnlyCollection<string> HostVeths { get; init; } = [];

    public IReadOnlyCollection<IPAddress> PodIps { get; init; } = [];
}

/// <summary>One kernel object of a gone branch pod: a rule, a link or a route, and why it goes.</summary>
internal sealed record Leftover(string Why)
{
    public Rule? Rule { get; init; }

    public Link? Link { get; init; }

    public Route? Route { get; init; }

    /// <summary>A route through a link that goes too: deleting the link takes it, so "already gone" is success.</summary>
    public string? GoesWith { get; init; }
}

/// <summary>How the routes left in a gone pod's table are found.</summary>
internal enum TableSweep
{
    /// <summary>Only the metadata deny route, deleted by its name: the one route the layout puts in a pod's table that
    /// has no device and so outlives the links. One request per table instead of a dump of every route on the node
    /// (measured: the dump cost DEL ~20 ms in the micro-VM, 1.24x -> 1.32x the ip -batch floor).</summary>
    DenyRouteOnly,

    /// <summary>Every route the kernel shows in the table, ours or not (`cleanup`, which reads the node once anyway).</summary>
    EveryRoute,
}

/// <summary>
/// The one definition of branch garbage for DEL, GC and the agent's `cleanup`: given gone owners, which objects on the
/// node are theirs, in the order they are removed (rules, then links, then what is left in their tables). Ours by the
/// layout (<see cref="BranchKernelLayout"/>): links by alias or by a known name without an alias, never a link that
/// names another owner; a pod's table (100+N) only while its `vlan.eth.N` is the gone owner's or does not exist, so a
/// table a live container holds again is never touched; the rules pointing into such a table (prio 10 `iif`, and
/// `from IP/32`), rules naming a gone host veth, and the prio-512 `to IP/32 lookup main` rule of a gone pod's address
/// unless a live veth still routes that address (a lone prio-512 rule is never ours to judge: the AWS VPC CNI uses the
/// shape for its own pods).
/// </summary>
internal static class BranchLeftovers
{
    public static IReadOnlyList<Leftover> Plan(IHostKernel node, IEnumerable<GoneBranch> gone, IBranchVlanLink vlanLink, TableSweep sweep,
        IReadOnlySet<IPAddress>? liveIps = null)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(gone);
        ArgumentNullException.ThrowIfNull(vlanLink);
        var owners = gone.Select(g => Owner.Of(g, node.Links, vlanLink)).ToList();
        var rules = Rules(node, owners, liveIps).ToList();
        var links = owners.SelectMany(o => o.Veths.Concat(o.Vlans).Select(l => new Leftover(o.Gone.Why) { Link = l }))
            .DistinctBy(l => l.Link!.Index).ToList();
        var going = links.ToDictionary(l => l.Link!.Index, l => l.Link!.Name);
        var routes = owners.SelectMany(o => o.Tables.Select(t => (o.Gone.Why, Table: t))).DistinctBy(t => t.Table)
            .SelectMany(t => sweep == TableSweep.DenyRouteOnly
                ? [new Leftover(t.Why) { Route = BranchPlumbing.DenyRouteOf(t.Table) }]
                : node.RoutesOf(t.Table).Select(r => new Leftover(t.Why)
                {
                    Route = r, GoesWith = r.OutputIndex is { } o && going.TryGetValue(o, out var link) ? link : null,
                }));
        return [.. rules, .. links, .. routes];
    }

    /// <summary>
    /// What a live pod's VLAN name and table carry that is not its: a `vlan.eth.N` owned by another container than
    /// <paramref name="live"/>'s (its <see cref="BranchPlumbing.ContainerId"/>, when known), and rules of our shapes into its
    /// table (prio 10 `iif`, prio 1536 `from IP/32`) that the pod has in neither mode, with the prio-512 rule of such
    /// an address unless a live pod holds it. <paramref name="who"/> names the pod in the reasons.
    /// </summary>
    public static IEnumerable<Leftover> Strays(IHostKernel node, BranchPlumbing live, string who, IReadOnlySet<IPAddress> liveIps)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(live);
        ArgumentNullException.ThrowIfNull(liveIps);
        if (node.Link(live.VlanLink) is { Alias.Length: > 0 } vlan && live.ContainerId is { Length: > 0 } owner && owner != vlan.Alias)
        {
            yield return new Leftover($"owner {vlan.Alias} is not {who}'s live sandbox {owner}") { Link = vlan };
        }

        var its = live.Rules.Concat(live.OtherModeRules).ToList();
        var strayIps = new HashSet<IPAddress>();
        foreach (var rule in node.Rules.Where(r => r.Table == live.Table && r.Action == RuleAction.ToTable && !its.Any(w => BranchPlumbingComparison.IsRule(r, w))))
        {
            var why = rule switch
            {
                { Priority: BranchKernelLayout.StrictRulePriority, IifName: { } iif } => $"iif {iif} is not {who}'s",
                { Priority: BranchKernelLayout.StandardFromPodPriority, From: { PrefixLength: 32 } from } => $"{from.BaseAddress} is not {who}'s address",
                _ => null,
            };
            if (why is not null)
            {
                if (rule.From is { } stray)
                {
                    strayIps.Add(stray.BaseAddress);
                }

                yield return new Leftover(why) { Rule = rule };
            }
        }

        foreach (var rule in node.Rules.Where(r => r is { Priority: BranchKernelLayout.StandardToPodPriority, Table: RouteTables.Main, To.PrefixLength: 32 }
                     && strayIps.Contains(r.To!.Value.BaseAddress) && !liveIps.Contains(r.To.Value.BaseAddress)))
        {
            yield return new Leftover($"its pair {BranchKernelLayout.StandardFromPodPriority} rule has no live owner") { Rule = rule };
        }
    }

    private static IEnumerable<Leftover> Rules(IHostKernel node, List<Owner> owners, IReadOnlySet<IPAddress>? liveIps)
    {
        var byTable = owners.SelectMany(o => o.Tables.Select(t => (t, o))).DistinctBy(p => p.t).ToDictionary(p => p.t, p => p.o);
        var byVeth = owners.SelectMany(o => o.VethNames.Select(n => (n, o))).DistinctBy(p => p.n).ToDictionary(p => p.n, p => p.o, StringComparer.Ordinal);
        var goneIps = new Dictionary<IPAddress, Owner>();
        foreach (var rule in node.Rules)
        {
            var owner = rule switch
            {
                { IifName: { } iif } when byVeth.TryGetValue(iif, out var o) => o,
                { Priority: BranchKernelLayout.StrictRulePriority, IifName: not null, Action: RuleAction.ToTable, Table: { } t }
                    when byTable.TryGetValue(t, out var o) => o,
                { Priority: BranchKernelLayout.StandardFromPodPriority, Action: RuleAction.ToTable, Table: { } t, From.PrefixLength: 32 }
                    when byTable.TryGetValue(t, out var o) => o,
                _ => null,
            };
            if (owner is not null)
            {
                if (rule.From is { PrefixLength: 32 } from)
                {
                    goneIps.TryAdd(from.BaseAddress, owner);
                }

                yield return new Leftover(owner.Gone.Why) { Rule = rule };
            }
        }

        var toPod = node.Rules.Where(r => r is { Priority: BranchKernelLayout.StandardToPodPriority, Table: RouteTables.Main, To.PrefixLength: 32 }).ToList();
        if (toPod.Count == 0)
        {
            yield break;
        }

        foreach (var owner in owners)
        {
            foreach (var ip in owner.Gone.PodIps)
            {
                goneIps.TryAdd(ip, owner);
            }
        }

        // The pod's /32 route (main, standard mode) through a gone veth names its address too; one through any other
        // veth means a live pod holds the address now.
        var going = owners.SelectMany(o => o.Veths.Select(v => (v.Index, o))).ToDictionary(p => p.Index, p => p.o);
        var veths = node.Links.Where(l => l.Kind == "veth").Select(l => l.Index).ToHashSet();
        var held = new HashSet<IPAddress>(liveIps ?? new HashSet<IPAddress>());
        foreach (var route in node.RoutesOf(RouteTables.Main).Where(r => r.Destination.PrefixLength == 32 && r.OutputIndex is not null))
        {
            if (going.TryGetValue(route.OutputIndex!.Value, out var owner))
            {
                goneIps.TryAdd(route.Destination.BaseAddress, owner);
            }
            else if (veths.Contains(route.OutputIndex.Value))
            {
                held.Add(route.Destination.BaseAddress);
            }
        }

        foreach (var rule in toPod)
        {
            var to = rule.To!.Value.BaseAddress;
            if (goneIps.TryGetValue(to, out var owner) && !held.Contains(to))
            {
                yield return new Leftover(owner.Gone.Why) { Rule = rule };
            }
        }
    }

    /// <summary>A gone owner resolved against the node's links: its veths and VLAN links, its tables, the names its
    /// rules may carry.</summary>
    private sealed record Owner(GoneBranch Gone, List<Link> Veths, List<Link> Vlans, HashSet<uint> Tables, HashSet<string> VethNames)
    {
        public static Owner Of(GoneBranch gone, IReadOnlyList<Link> links, IBranchVlanLink vlanLink)
        {
            var named = gone.HostVeths.ToHashSet(StringComparer.Ordinal);
            var veths = gone.ContainerId is null ? []
                : links.Where(l => l.Kind == "veth" && (l.Alias == gone.ContainerId || (named.Contains(l.Name) && string.IsNullOrEmpty(l.Alias)))).ToList();
            var vlanIds = gone.VlanIds
                .Concat(links.Where(l => gone.ContainerId is not null && vlanLink.IsKind(l) && l.Alias == gone.ContainerId)
                    .Select(l => BranchKernelLayout.VlanIdOf(l.Name)).OfType<int>())
                .ToHashSet();
            var vlanNames = vlanIds.Select(BranchKernelLayout.VlanLinkName).ToHashSet(StringComparer.Ordinal);
            var vlans = links.Where(l => vlanLink.IsKind(l) && vlanNames.Contains(l.Name)
                && (gone.ContainerId is null || l.Alias == gone.ContainerId || string.IsNullOrEmpty(l.Alias))).ToList();
            // A VLAN whose link is gone (pod gone, or the trunk went and took it) leaves its table to us, unless another
            // owner already holds that VLAN again.
            var tables = vlanIds.Where(id => vlans.Any(v => v.Name == BranchKernelLayout.VlanLinkName(id))
                    || links.All(l => l.Name != BranchKernelLayout.VlanLinkName(id)))
                .Select(BranchKernelLayout.TableOf).ToHashSet();
            var vethNames = veths.Select(v => v.Name).Concat(named.Where(n => links.All(l => l.Name != n))).ToHashSet(StringComparer.Ordinal);
            return new Owner(gone, veths, vlans, tables, vethNames);
        }
    }
}
