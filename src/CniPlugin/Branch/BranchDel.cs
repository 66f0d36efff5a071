using BranchEni.Contracts;
using BranchEni.Netlink;
using Serilog.Core;

namespace BranchEni.Cni.Branch;

/// <summary>
/// DEL for a branch pod, idempotent and safe with partial knowledge: what is the container's is decided by
/// <see cref="BranchLeftovers"/> from prevResult, the host veth name, a record's VLAN id and the owner alias on links,
/// so only what is ours goes. A link whose alias names another container is never touched; missing things are success.
/// </summary>
internal sealed class BranchDel(NetlinkHandle host, string containerId, Logger log, IBranchVlanLink vlanLink)
{
    /// <summary>Removes the container's branch plumbing; returns how many kernel objects were deleted.</summary>
    public int Run(BranchFootprint? footprint, string? hostVethName, int? recordVlanId)
    {
        var gone = new GoneBranch($"DEL of {containerId}")
        {
            ContainerId = containerId,
            VlanIds = new[] { footprint?.VlanId, recordVlanId }.OfType<int>().ToList(),
            HostVeths = new[] { footprint?.HostVeth, hostVethName }.OfType<string>().ToList(),
            PodIps = footprint?.PodIp is { } ip ? [ip] : [],
        };
        return Remove(host, BranchLeftovers.Plan(new LiveHostKernel(host), [gone], vlanLink, TableSweep.DenyRouteOnly), log);
    }

    /// <summary>Deletes a plan in its order (rules, links, then table leftovers; a route that went with its link is
    /// success) and returns how many objects were there to delete.</summary>
    public static int Remove(NetlinkHandle host, IReadOnlyList<Leftover> plan, Logger log)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(plan);
        var deleted = 0;
        foreach (var leftover in plan)
        {
            var done = leftover switch
            {
                { Rule: { } rule } => host.DeleteRuleIfExists(rule),
                { Link: { } link } => host.DeleteLinkIfExists(link.Name),
                { Route: { } route } => host.DeleteRouteIfExists(route),
                _ => false,
            };
            if (done && leftover.Rule is null)
            {
                log.Information("{Why}: removed {Object}", leftover.Why,
                    leftover.Link is { } link ? $"link {link.Name}" : PlumbingText.Route(leftover.Route!, _ => null));
            }

            deleted += done ? 1 : 0;
        }

        return deleted;
    }
}
