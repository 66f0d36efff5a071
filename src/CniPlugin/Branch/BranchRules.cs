using System.Net;
using BranchEni.Cni.Config;
using BranchEni.Contracts;
using BranchEni.Netlink;

namespace BranchEni.Cni.Branch;

/// <summary>The policy rules of one branch pod per enforcing mode (DESIGN.md §2).</summary>
internal static class BranchRules
{
    public static IReadOnlyList<Rule> For(BranchLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        return layout.Mode == EnforcingMode.Strict
            ? Strict(layout.VlanLink, layout.HostVeth, layout.Table)
            : Standard(layout.PodIp, layout.Table);
    }

    /// <summary>prio 10: everything from the VLAN or from the pod's veth uses the pod's table.</summary>
    public static Rule[] Strict(string vlanLink, string hostVeth, uint table) => BranchKernelLayout.StrictRules(vlanLink, hostVeth, table);

    /// <summary>prio 512: to the pod via main; prio 1536: from the pod via its table.</summary>
    public static Rule[] Standard(IPAddress podIp, uint table) => BranchKernelLayout.StandardRules(podIp, table);
}
