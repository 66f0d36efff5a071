using BranchEni.Agent.Configuration;
using BranchEni.Contracts;
using BranchEni.Netlink;
using BranchEni.Policy;

namespace BranchEni.Agent.Cli;

/// <summary>What the kernel shows for one recorded branch pod, and every way it differs from the record.</summary>
internal sealed record PodFindings(RecordedPod Pod)
{
    public List<string> Differences { get; } = [];

    /// <summary>The owner the links carry in their alias (the sandbox's container id).</summary>
    public string? ContainerId { get; set; }

    /// <summary>The mode the pod's rules show; null when it has none.</summary>
    public EnforcingMode? KernelMode { get; set; }

    public string? PodNetns { get; set; }

    /// <summary>Neither the host veth nor the VLAN link exists: no sandbox has been wired (or it was torn down).</summary>
    public bool KernelAbsent { get; set; }
}

/// <summary>
/// Compares one pod's <see cref="BranchPlumbing"/>, made from its record, with the node
/// (<see cref="BranchPlumbingComparison"/>, the comparison CNI CHECK makes too), and adds what only the node shows: the
/// other mode's rules for the pod, and rp_filter on its links. Every difference is one line naming the object.
/// </summary>
internal sealed class PodVerifier(NodeSnapshot node, EnforcingMode mode, Func<PodNamespaces> namespaces)
{
    public PodFindings Check(RecordedPod pod)
    {
        ArgumentNullException.ThrowIfNull(pod);
        var found = new PodFindings(pod);
        if (pod.Branch is not { } branch || pod.HostVeth is not { } vethName)
        {
            found.Differences.Add($"record {pod.Uid}.json is unusable: {pod.Error}");
            return found;
        }

        var veth = node.Link(vethName);
        var vlan = node.Link(branch.VlanLinkName);
        found.KernelMode = node.ModeOfTable(branch.RouteTable);
        found.ContainerId = NonEmpty(vlan?.Alias) ?? NonEmpty(veth?.Alias);
        if (veth is null && vlan is null)
        {
            found.KernelAbsent = true;
            found.Differences.Add($"no kernel plumbing: host veth {vethName} and {branch.VlanLinkName} are missing");
            return found;
        }

        var model = ModelOf(branch, vethName);
        var d = found.Differences;
        d.AddRange(BranchPlumbingComparison.HostDifferences(model, node, node.VlanLink));
        d.AddRange(BranchPlumbingComparison.OtherModeRules(model, node)
            .Select(rule => $"{KernelText.Rule(rule)} belongs to the other mode; the node is {Name(mode)}"));
        Expect(d, veth is null || node.RpFilter(vethName) != 1, $"rp_filter on {vethName} is 1 (strict): the pod's packets are dropped; use 0 or 2");
        Expect(d, vlan is null || node.RpFilter(vlan.Name) != 1, $"rp_filter on {branch.VlanLinkName} is 1 (strict): replies to the pod are dropped; use 0 or 2");
        if (veth is not null)
        {
            CheckPodSide(found, model, veth);
        }

        return found;
    }

    /// <summary>What the record says the pod has; the container id stays unknown (the record does not carry it).</summary>
    private BranchPlumbing ModelOf(BranchEniAssignment branch, string vethName) => new()
    {
        HostVeth = vethName,
        VlanId = branch.VlanId,
        BranchMac = branch.Mac,
        PodIp = branch.PrivateIp,
        VpcGateway = branch.Gateway,
        Mode = mode,
        MetadataAccess = branch.MetadataAccess,
        Trunk = node.TrunkLink?.Name,
        ExpectedBy = "the record",
    };

    private void CheckPodSide(PodFindings found, BranchPlumbing model, Link veth)
    {
        var (path, linkName, problem) = namespaces().Find(veth, model.PodIp);
        if (problem is not null)
        {
            found.Differences.Add(problem);
            return;
        }

        found.PodNetns = path;
        try
        {
            CheckPodNamespace(found.Differences, model, veth, path!, linkName!);
        }
        catch (NetlinkException e)
        {
            // The sandbox went away while we looked, or its namespace cannot be read: say so for this pod only.
            found.Differences.Add($"the pod's namespace {path} could not be read: {e.Message}");
        }
    }

    private static void CheckPodNamespace(List<string> d, BranchPlumbing model, Link veth, string path, string linkName)
    {
        using var pod = NetlinkHandle.Open(path);
        var link = pod.GetLink(linkName);
        // Read here, inside the caller's catch: a namespace that goes away mid-read is this pod's difference only.
        d.AddRange(BranchPlumbingComparison.PodDifferences(model, pod, link, $"{link.Name} in {path}", veth).ToList());
    }

    internal static string Name(EnforcingMode mode) => mode == EnforcingMode.Strict ? "strict" : "standard";

    private static string? NonEmpty(string? text) => string.IsNullOrEmpty(text) ? null : text;

    private static void Expect(List<string> differences, bool condition, string difference)
    {
        if (!condition)
        {
            differences.Add(difference);
        }
    }
}
