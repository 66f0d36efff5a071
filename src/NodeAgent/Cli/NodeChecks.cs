using BranchEni.Agent.Configuration;
using BranchEni.Agent.Node;
using BranchEni.Contracts;
using BranchEni.Netlink;

namespace BranchEni.Agent.Cli;

/// <summary>
/// The node-wide part of `verify`: the trunk (record, link, up), the installed CNI, forwarding, the strict-mode local
/// rule, records that share a VLAN, and every orphan <see cref="OrphanPlan"/> finds. Checks that only matter for branch
/// pods run only when the node has pod records.
/// </summary>
internal static class NodeChecks
{
    public static List<string> Run(NodeSnapshot node, EnforcingMode mode, IReadOnlyList<Orphan> orphans)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(orphans);
        var d = new List<string>();
        var hasPods = node.Pods.Count > 0;
        CheckTrunk(node, d, hasPods);
        if (node.Cni.ConflistError is { } conflistError)
        {
            d.Add($"conflist {node.Cni.ConflistPath} is unusable: {conflistError}");
        }

        if (hasPods)
        {
            Expect(d, node.Cni.ConflistInstalled, $"conflist {node.Cni.ConflistPath} is not installed (kubelet sees no network)");
            Expect(d, node.Cni.BinaryInstalled, $"CNI binary {node.Cni.BinaryPath} is not installed");
            Expect(d, node.Sysctls.GetValueOrDefault("net/ipv4/ip_forward") == "1", "net.ipv4.ip_forward is not 1: nothing is routed to or from pods");
            if (mode == EnforcingMode.Strict)
            {
                CheckLocalRule(node, d);
            }
        }

        foreach (var clash in node.Pods.Where(p => p.VlanId is not null).GroupBy(p => p.VlanId).Where(g => g.Count() > 1))
        {
            d.Add($"VLAN {clash.Key} is recorded for several pods: {string.Join(", ", clash.Select(p => p.Display))}");
        }

        d.AddRange(orphans.Select(o => $"orphan {o.Object}: {o.Reason}"));
        return d;
    }

    private static void CheckTrunk(NodeSnapshot node, List<string> d, bool hasPods)
    {
        if (node.TrunkError is { } error)
        {
            d.Add($"trunk record unusable: {error}");
            return;
        }

        if (node.Trunk is not { } trunk)
        {
            Expect(d, !hasPods, $"no trunk record ({node.StateDir}/trunk.json) but {node.Pods.Count} pod records");
            return;
        }

        if (node.TrunkLink is not { } link)
        {
            d.Add($"trunk {trunk.EniId} (MAC {trunk.MacAddress}) is not on this node");
            return;
        }

        Expect(d, link.IsUp, $"trunk link {link.Name} is down");
        Expect(d, trunk.LinkName is null || trunk.LinkName == link.Name, $"trunk.json names link {trunk.LinkName}, the trunk's MAC is on {link.Name}");
    }

    /// <summary>Strict mode needs local delivery after the prio-10 iif rules (the agent moves it from 0 to 20).</summary>
    private static void CheckLocalRule(NodeSnapshot node, List<string> d)
    {
        var local = node.Rules.Where(r => r.Table == RouteTables.Local && r.Action == RuleAction.ToTable && r.IifName is null
            && r.From is null && r.To is null).ToList();
        Expect(d, !local.Any(r => (r.Priority ?? 0) == 0),
            "rule prio 0 from all lookup local is still there: strict pods reach the node without passing the VPC");
        Expect(d, local.Any(r => r.Priority == NodePreparer.StrictLocalPriority), $"rule prio {NodePreparer.StrictLocalPriority} from all lookup local is missing");
    }

    private static void Expect(List<string> d, bool condition, string difference)
    {
        if (!condition)
        {
            d.Add(difference);
        }
    }
}
