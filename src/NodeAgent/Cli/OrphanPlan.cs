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
}

/// <summary>
/// Decides which branch plumbing has no live owner. VLAN N is live when a record holds VLAN N and that pod's host
/// veth exists (a veth dies with its pod's namespace, so it is the kernel's own proof that the sandbox lives).
/// Garbage: vlan.eth.N links of a VLAN that is not live or owned (alias) by another container than the live pod's;
/// prio-10 iif rules and prio-1536 from rules pointing at tables 101..4194 of VLANs that are not live (or naming
/// another interface or address than the live pod's); the prio-512 `to IP lookup main` rule paired with such a
/// 1536 rule; and every route left in those tables. A lone prio-512 rule is never touched: other CNIs (the AWS VPC
/// CNI for its own pods) use that shape too. Host veths are never touched: they belong to live namespaces.
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

        var plan = new List<Orphan>();
        plan.AddRange(Rules(node, live));
        var links = Links(node, live).ToList();
        plan.AddRange(links);
        plan.AddRange(Routes(node, live, links));
        return plan;
    }

    private static IEnumerable<Orphan> Links(NodeSnapshot node, Dictionary<int, RecordedPod> live)
    {
        foreach (var link in node.VlanLinks)
        {
            var vlan = BranchKernelLayout.VlanIdOf(link.Name)!.Value;
            string? reason = null;
            if (!live.TryGetValue(vlan, out var pod))
            {
                reason = DeadVlan(node, vlan);
            }
            else if (!string.IsNullOrEmpty(link.Alias) && node.Link(pod.HostVeth)?.Alias is { Length: > 0 } owner && owner != link.Alias)
            {
                reason = $"owner {link.Alias} is not {pod.Display}'s live sandbox {owner}";
            }

            if (reason is not null)
            {
                yield return new Orphan("link", KernelText.Link(link), reason) { Link = link };
            }
        }
    }

    private static IEnumerable<Orphan> Rules(NodeSnapshot node, Dictionary<int, RecordedPod> live)
    {
        var deadFromIps = new HashSet<IPAddress>();
        foreach (var rule in node.Rules)
        {
            if (BranchKernelLayout.VlanIdOfTable(rule.Table) is not { } vlan || rule.Action != RuleAction.ToTable)
            {
                continue;
            }

            live.TryGetValue(vlan, out var pod);
            string? reason = null;
            if (rule.Priority == BranchKernelLayout.StrictRulePriority && rule.IifName is { } iif)
            {
                reason = pod is null ? DeadVlan(node, vlan)
                    : iif != BranchKernelLayout.VlanLinkName(vlan) && iif != pod.HostVeth ? $"iif {iif} is not {pod.Display}'s" : null;
            }
            else if (rule.Priority == BranchKernelLayout.StandardFromPodPriority && rule.From is { PrefixLength: 32 } from)
            {
                reason = pod is null ? DeadVlan(node, vlan)
                    : !from.BaseAddress.Equals(pod.Branch!.PrivateIp) ? $"{from.BaseAddress} is not {pod.Display}'s address" : null;
                if (reason is not null)
                {
                    deadFromIps.Add(from.BaseAddress);
                }
            }

            if (reason is not null)
            {
                yield return new Orphan("rule", KernelText.Rule(rule), reason) { Rule = rule };
            }
        }

        var liveIps = live.Values.Select(p => p.Branch!.PrivateIp).ToHashSet();
        foreach (var rule in node.Rules.Where(r => r.Priority == BranchKernelLayout.StandardToPodPriority && r.Table == RouteTables.Main
                     && r.To is { PrefixLength: 32 } to && deadFromIps.Contains(to.BaseAddress) && !liveIps.Contains(to.BaseAddress)))
        {
            yield return new Orphan("rule", KernelText.Rule(rule), $"its pair {BranchKernelLayout.StandardFromPodPriority} rule has no live owner") { Rule = rule };
        }
    }

    private static IEnumerable<Orphan> Routes(NodeSnapshot node, Dictionary<int, RecordedPod> live, List<Orphan> links)
    {
        var going = links.Select(l => l.Link!.Index).ToHashSet();
        foreach (var route in node.Routes)
        {
            if (BranchKernelLayout.VlanIdOfTable(route.Table) is { } vlan && !live.ContainsKey(vlan))
            {
                var with = route.OutputIndex is { } o && going.Contains(o) ? $"; goes with {node.Link(o)!.Name}" : "";
                yield return new Orphan("route", KernelText.Route(route, node), DeadVlan(node, vlan) + with) { Route = route };
            }
        }
    }

    private static string DeadVlan(NodeSnapshot node, int vlan) =>
        node.Pods.FirstOrDefault(p => p.VlanId == vlan) is { } pod
            ? $"{pod.Display} (VLAN {vlan}) has no host veth {pod.HostVeth}: its sandbox is gone"
            : $"no record has VLAN {vlan}";
}
