using System.Net;
using BranchEni.Contracts;
using BranchEni.Netlink;

namespace BranchEni.Agent.Cli;

/// <summary>One kernel object with no live owner: what it is, why it is garbage, and the object to delete.</summary>
internal sealed record Orphan(string Kind, string Object, string Reason)
{
    public Link? Link { get; init; }

    public Rule? Rule { get; init; }

    public Route? Route { get; init; }

    /// <summary>A leftover as the debug commands print it, device names from the snapshot.</summary>
    public static Func<Leftover, Orphan> Of(NodeSnapshot node) => l => l switch
    {
        { Rule: { } rule } => new Orphan("rule", KernelText.Rule(rule), l.Why) { Rule = rule },
        { Link: { } link } => new Orphan("link", KernelText.Link(link), l.Why) { Link = link },
        _ => new Orphan("route", KernelText.Route(l.Route!, node), l.Why + (l.GoesWith is { } with ? $"; goes with {with}" : "")) { Route = l.Route },
    };
}

/// <summary>
/// Decides which branch plumbing has no live owner. VLAN N is live when a record holds VLAN N and that pod's host
/// veth exists (a veth dies with its pod's namespace, so it is the kernel's own proof that the sandbox lives). Every VLAN
/// the node shows (a `vlan.eth.N` link, a rule or route in table 100+N) that is not live is a gone owner, and what is
/// its is <see cref="BranchLeftovers"/>' answer, as for DEL and GC (every route in its table included, and no address
/// a live pod holds). Besides, in a live VLAN: a `vlan.eth.N` owned by another container than the live pod's sandbox,
/// and prio-10 / prio-1536 rules naming another interface or address than the live pod's (with the prio-512 rule of
/// that address). Host veths are never touched: they belong to live namespaces.
/// </summary>
internal static class OrphanPlan
{
    public static IReadOnlyList<Orphan> For(NodeSnapshot node)
    {
        ArgumentNullException.ThrowIfNull(node);
        var live = new Dictionary<int, RecordedPod>();
        foreach (var pod in node.Pods.Where(p => p.Branch is not null && node.Link(p.HostVeth) is { Kind: "veth" }))
        {
            live.TryAdd(pod.VlanId!.Value, pod);
        }

        var shown = node.VlanLinks.Select(l => BranchKernelLayout.VlanIdOf(l.Name))
            .Concat(node.Rules.Select(r => BranchKernelLayout.VlanIdOfTable(r.Table)))
            .Concat(node.Routes.Select(r => BranchKernelLayout.VlanIdOfTable(r.Table)))
            .OfType<int>().Where(vlan => !live.ContainsKey(vlan)).Distinct().Order();
        var gone = shown.Select(vlan => new GoneBranch(DeadVlan(node, vlan)) { VlanIds = [vlan] });
        var liveIps = live.Values.Select(p => p.Branch!.PrivateIp).ToHashSet();
        var plan = BranchLeftovers.Plan(node, gone, node.VlanLink, TableSweep.EveryRoute, liveIps).Select(Orphan.Of(node));
        return [.. plan.Concat(Strays(node, live, liveIps)).OrderBy(o => o.Kind switch { "rule" => 0, "link" => 1, _ => 2 })];
    }

    /// <summary>What a live VLAN's name or table carries that is not its live pod's (the pod as its record and its veth's
    /// owner say).</summary>
    private static IEnumerable<Orphan> Strays(NodeSnapshot node, Dictionary<int, RecordedPod> live, HashSet<IPAddress> liveIps) =>
        live.Values.SelectMany(pod => BranchLeftovers.Strays(node, new BranchPlumbing
        {
            ContainerId = node.Link(pod.HostVeth)?.Alias, HostVeth = pod.HostVeth!, VlanId = pod.VlanId!.Value, PodIp = pod.Branch!.PrivateIp,
            Mode = EnforcingMode.Strict,
        }, pod.Display, liveIps)).Select(Orphan.Of(node));

    private static string DeadVlan(NodeSnapshot node, int vlan) =>
        node.Pods.FirstOrDefault(p => p.VlanId == vlan) is { } pod
            ? $"{pod.Display} (VLAN {vlan}) has no host veth {pod.HostVeth}: its sandbox is gone"
            : $"no record has VLAN {vlan}";
}
