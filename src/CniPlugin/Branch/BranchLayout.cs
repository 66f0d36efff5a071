using BranchEni.Cni.Config;
using BranchEni.Contracts;

namespace BranchEni.Cni.Branch;

/// <summary>
/// The CNI's way to a <see cref="BranchPlumbing"/>: from the plugin config, CNI_CONTAINERID, CNI_IFNAME, the pod's
/// identity and its branch ENI (ADD), and the host veth name with the CNI's own SHA-1 (its start-up budget).
/// </summary>
internal static class BranchLayout
{
    /// <summary>`&lt;prefix&gt;&lt;first 11 hex of sha1("&lt;ns&gt;.&lt;pod&gt;")&gt;`, the same name the AWS VPC CNI gives.</summary>
    public static string HostVethName(string prefix, string podNamespace, string podName) =>
        BranchKernelLayout.HostVethName(prefix, Sha1.Hash(BranchKernelLayout.HostVethHashInput(podNamespace, podName)));

    /// <summary>What ADD makes: every field known.</summary>
    public static BranchPlumbing Create(PluginConfig config, string containerId, string ifName, CniArgs args, BranchEniAssignment branch)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(branch);
        return new BranchPlumbing
        {
            ContainerId = containerId,
            HostVeth = HostVethName(config.VethPrefix, args.PodNamespace!, args.PodName!),
            PodIfName = ifName,
            VlanId = branch.VlanId,
            BranchMac = branch.Mac,
            PodIp = branch.PrivateIp,
            VpcGateway = branch.Gateway,
            Mtu = config.Mtu,
            Mode = config.EnforcingMode,
            MetadataAccess = branch.MetadataAccess,
        };
    }
}
