using System.Net.NetworkInformation;
using BranchEni.Cni.Protocol;
using BranchEni.Contracts;
using BranchEni.Netlink;
using BranchEni.Policy;

namespace BranchEni.Cni.Branch;

/// <summary>
/// CHECK for a branch pod: the kernel must match the pod's <see cref="BranchPlumbing"/> as prevResult and the
/// configured mode give it (links, MACs, VLAN id, owner, address, routes, neighbour, rules), with the metadata deny
/// route as the pod's record says (the desired state: prevResult cannot say it). The first difference of
/// <see cref="BranchPlumbingComparison"/> fails with a message naming it (code 105).
/// </summary>
internal sealed class BranchCheck(NetlinkHandle host, NetworkNamespace podNs, string containerId, EnforcingMode mode,
    IBranchVlanLink vlanLink)
{
    public void Run(BranchFootprint expected, MetadataAccess metadataAccess)
    {
        ArgumentNullException.ThrowIfNull(expected);
        var model = ModelOf(expected, metadataAccess);
        if (BranchPlumbingComparison.HostDifferences(model, new LiveHostKernel(host), vlanLink).FirstOrDefault() is { } difference)
        {
            throw Differs(difference);
        }

        CheckPod(model);
    }

    /// <summary>What prevResult says the pod has; the VPC gateway stays unknown (the comparison reads it from the table).</summary>
    private BranchPlumbing ModelOf(BranchFootprint expected, MetadataAccess metadataAccess) => new()
    {
        ContainerId = containerId,
        HostVeth = expected.HostVeth,
        PodIfName = expected.PodIfName,
        VlanId = expected.VlanId,
        PodIp = expected.PodIp ?? throw Differs("prevResult has no IPv4 address on interface 1"),
        Mode = mode,
        MetadataAccess = metadataAccess,
        BranchMac = MacOf(expected.VlanMac, expected.VlanLink),
        HostVethMac = MacOf(expected.HostVethMac, expected.HostVeth),
        PodMac = MacOf(expected.PodMac, expected.PodIfName),
        ExpectedBy = "prevResult",
    };

    private void CheckPod(BranchPlumbing model)
    {
        // HostDifferences found the host veth, so it is there to read.
        var veth = host.GetLink(model.HostVeth);
        using var pod = podNs.OpenNetlink();
        var link = pod.TryGetLink(model.PodIfName!) ?? throw Differs($"{model.PodIfName} is missing in {podNs.Path}");
        if (BranchPlumbingComparison.PodDifferences(model, pod, link, $"{link.Name} in the pod", veth).FirstOrDefault() is { } difference)
        {
            throw Differs(difference);
        }
    }

    private static PhysicalAddress? MacOf(string? text, string link)
    {
        try
        {
            return text is null ? null : BranchEniParser.ParseMac(text, link);
        }
        catch (BranchEniFormatException e)
        {
            throw Differs($"prevResult's MAC of {link}: {e.Problem}");
        }
    }

    private static CniException Differs(string difference) => new(CniErrorCode.CheckMismatch, $"CHECK: {difference}");
}
