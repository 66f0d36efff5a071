using System.Net.Sockets;
using BranchEni.Agent.Configuration;
using BranchEni.Contracts;
using BranchEni.Netlink;
using Serilog;

namespace BranchEni.Agent.Node;

/// <summary>
/// The node-level kernel work done once (DESIGN.md §2, kernel layout, "node"): find the trunk's link by MAC and bring
/// it up without an address; rp_filter loose on the primary interface; tcp_early_demux off when asked; in strict mode
/// move the `from all lookup local` rule from priority 0 to 20 so the per-pod iif rules (priority 10) win. All through
/// src/Netlink, in the node's namespace (the agent's own unless BRANCH_ENI_NETNS names another).
/// </summary>
internal sealed class NodePreparer(string? namespacePath, ILogger log)
{
    public const uint StrictLocalPriority = 20;

    /// <summary>Waits (bounded) for the trunk's link to appear and brings it up; returns its name.</summary>
    public async Task<string> BringUpTrunkAsync(string trunkMac, TimeSpan wait, CancellationToken ct)
    {
        var mac = Contracts.BranchEniParser.ParseMac(trunkMac, "trunk macAddress");
        var deadline = DateTime.UtcNow + wait;
        while (true)
        {
            using (var ns = Open())
            using (var handle = ns.OpenNetlink())
            {
                if (handle.FindLinkByMac(mac) is { } link)
                {
                    if (!link.IsUp)
                    {
                        handle.SetLinkUp(link.Index);
                    }

                    log.Information("Trunk link {Link} ({Mac}) is up", link.Name, trunkMac);
                    return link.Name;
                }
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new NodePreparationException($"no link with the trunk's MAC {trunkMac} appeared within {wait.TotalSeconds:0} s");
            }

            // A hot-attached ENI takes a moment to show up as a device.
            await Task.Delay(250, ct).ConfigureAwait(false);
        }
    }

    /// <summary>rp_filter, tcp_early_demux and the local rule; each step is idempotent.</summary>
    public void PrepareNode(string primaryMac, EnforcingMode mode, bool disableTcpEarlyDemux)
    {
        using var ns = Open();
        using var handle = ns.OpenNetlink();
        var primary = handle.FindLinkByMac(Contracts.BranchEniParser.ParseMac(primaryMac, "primary MAC"));
        if (primary is null)
        {
            log.Warning("No link carries the primary MAC {Mac}; rp_filter left unchanged", primaryMac);
        }
        else
        {
            // Replies to pod traffic arrive on the primary interface for sources routed out of the VLAN links.
            ns.WriteSysctl($"net/ipv4/conf/{primary.Name}/rp_filter", "2");
        }

        if (disableTcpEarlyDemux)
        {
            ns.WriteSysctl("net/ipv4/tcp_early_demux", "0");
        }

        if (mode == EnforcingMode.Strict)
        {
            MoveLocalRule(handle);
        }

        log.Information("Node prepared: rp_filter loose on {Primary}, tcp_early_demux {Demux}, mode {Mode}",
            primary?.Name ?? "(none)", disableTcpEarlyDemux ? "off" : "unchanged", mode);
    }

    /// <summary>Equivalent to: `ip rule add pref 20 lookup local; ip rule del pref 0 lookup local` (add first, so local
    /// delivery never has a gap).</summary>
    internal static void MoveLocalRule(NetlinkHandle handle)
    {
        foreach (var family in new[] { AddressFamily.InterNetwork, AddressFamily.InterNetworkV6 })
        {
            var rules = handle.ListRules(family);
            if (!rules.Any(r => r.Table == RouteTables.Local && r.Priority == StrictLocalPriority && r.Action == RuleAction.ToTable))
            {
                handle.AddRule(new Rule { Family = family, Priority = StrictLocalPriority, Table = RouteTables.Local });
            }

            if (rules.Any(r => r.Table == RouteTables.Local && (r.Priority ?? 0) == 0))
            {
                handle.DeleteRuleIfExists(new Rule { Family = family, Priority = 0, Table = RouteTables.Local });
            }
        }
    }

    private NetworkNamespace Open() => namespacePath is null ? NetworkNamespace.OpenCurrent() : NetworkNamespace.Open(namespacePath);
}

internal sealed class NodePreparationException(string message) : Exception(message);
