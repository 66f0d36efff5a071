using BranchEni.Contracts;
using BranchEni.Netlink;
using Serilog.Core;

namespace BranchEni.Cni.Branch;

/// <summary>
/// GC (spec 1.1.0): our VLAN links and host veths carry their owner container in the link alias; every owner not in
/// the valid set is gone, and its objects are what <see cref="BranchLeftovers"/> says DEL of it would remove (its rules
/// and table routes with it). Links without an alias are not provably ours and stay.
/// </summary>
internal static class BranchGc
{
    public static int Run(NetlinkHandle host, string vethPrefix, IReadOnlySet<string> validContainerIds, Logger log, IBranchVlanLink vlanLink)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(validContainerIds);
        var node = new LiveHostKernel(host);
        var strangers = node.Links
            .Where(l => !string.IsNullOrEmpty(l.Alias) && !validContainerIds.Contains(l.Alias!) && IsOurs(l, vethPrefix, vlanLink))
            .Select(l => l.Alias!)
            .Distinct(StringComparer.Ordinal)
            .ToList();
        foreach (var owner in strangers)
        {
            log.Information("GC: removing the branch plumbing of stale container {ContainerId}", owner);
        }

        var gone = strangers.Select(owner => new GoneBranch($"GC of {owner}") { ContainerId = owner });
        return strangers.Count == 0 ? 0 : BranchDel.Remove(host, BranchLeftovers.Plan(node, gone, vlanLink, TableSweep.DenyRouteOnly), log);
    }

    private static bool IsOurs(Link link, string vethPrefix, IBranchVlanLink vlanLink) =>
        vlanLink.IsBranchVlanLink(link)
        || (link.Kind == "veth" && link.Name.Length == vethPrefix.Length + BranchKernelLayout.VethHashLength && link.Name.StartsWith(vethPrefix, StringComparison.Ordinal));
}
