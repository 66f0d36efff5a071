using System.Net;
using System.Net.NetworkInformation;
using BranchEni.Cni.Config;
using BranchEni.Contracts;
using BranchEni.Netlink;
using BranchEni.Policy;

namespace BranchEni.Cni.Branch;

/// <summary>
/// Everything the kernel layout of one branch pod is made of (DESIGN.md §2 "Kernel layout per branch pod"), derived
/// once so ADD, CHECK and DEL name the same links, tables and rules.
/// </summary>
internal sealed record BranchLayout
{
    /// <summary>The pod's next hop: link-local, answered by a permanent neighbour entry (no ARP).</summary>
    public static readonly IPAddress PodGateway = BranchKernelLayout.PodGateway;

    public const string VlanLinkPrefix = BranchKernelLayout.VlanLinkPrefix;
    public const int TableBase = BranchKernelLayout.TableBase;
    public const uint StrictRulePriority = BranchKernelLayout.StrictRulePriority;
    public const uint StandardToPodPriority = BranchKernelLayout.StandardToPodPriority;
    public const uint StandardFromPodPriority = BranchKernelLayout.StandardFromPodPriority;

    public required string ContainerId { get; init; }

    public required string HostVeth { get; init; }

    public required string PodIfName { get; init; }

    public required int VlanId { get; init; }

    public required PhysicalAddress BranchMac { get; init; }

    public required IPAddress PodIp { get; init; }

    /// <summary>The VPC router of the branch's subnet.</summary>
    public required IPAddress VpcGateway { get; init; }

    public required int Mtu { get; init; }

    public required EnforcingMode Mode { get; init; }

    /// <summary>Denied adds <see cref="BranchKernelLayout.MetadataDenyRoute"/> to the pod's table.</summary>
    public MetadataAccess MetadataAccess { get; init; } = MetadataAccess.Allowed;

    public Route MetadataDenyRoute => BranchKernelLayout.MetadataDenyRoute(Table);

    public string VlanLink => VlanLinkName(VlanId);

    public uint Table => TableOf(VlanId);

    public IPNetwork PodHostRoute => new(PodIp, 32);

    public static string VlanLinkName(int vlanId) => BranchKernelLayout.VlanLinkName(vlanId);

    public static uint TableOf(int vlanId) => BranchKernelLayout.TableOf(vlanId);

    /// <summary>The VLAN id of a name "vlan.eth.N" with N in 1..4094; null for any other name.</summary>
    public static int? VlanIdOf(string? linkName) => BranchKernelLayout.VlanIdOf(linkName);

    /// <summary>`&lt;prefix&gt;&lt;first 11 hex of sha1("&lt;ns&gt;.&lt;pod&gt;")&gt;`, the same name the AWS VPC CNI gives.</summary>
    public static string HostVethName(string prefix, string podNamespace, string podName) =>
        BranchKernelLayout.HostVethName(prefix, Sha1.Hash(BranchKernelLayout.HostVethHashInput(podNamespace, podName)));

    public static BranchLayout Create(PluginConfig config, string containerId, string ifName, CniArgs args, BranchEniAssignment branch)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(branch);
        return new BranchLayout
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
