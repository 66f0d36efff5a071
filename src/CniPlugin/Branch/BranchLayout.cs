using System.Net;
using System.Net.NetworkInformation;
using BranchEni.Cni.Config;
using BranchEni.Contracts;
using BranchEni.Netlink;
using BranchEni.Policy;

namespace BranchEni.Cni.Branch;

/// <summary>
/// Everything the kernel layout of one branch pod is made of (DESIGN.md §2 "Kernel layout per branch pod"), derived
/// once so ADD, CHECK and DEL name the same links, tables and rules; the names, numbers and rule shapes themselves
/// are <see cref="BranchKernelLayout"/>'s, shared with the agent.
/// </summary>
internal sealed record BranchLayout
{
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

    public string VlanLink => BranchKernelLayout.VlanLinkName(VlanId);

    public uint Table => BranchKernelLayout.TableOf(VlanId);

    /// <summary>Where the pod's /32 route lives: its own table in strict mode, main in standard mode.</summary>
    public uint PodRouteTable => Mode == EnforcingMode.Strict ? Table : RouteTables.Main;

    /// <summary>The policy rules of the pod's enforcing mode (DESIGN.md §2).</summary>
    public IReadOnlyList<Rule> Rules => Mode == EnforcingMode.Strict
        ? BranchKernelLayout.StrictRules(VlanLink, HostVeth, Table)
        : BranchKernelLayout.StandardRules(PodIp, Table);

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
