using System.Net;
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
/// Compares one pod's kernel layout (DESIGN.md §2) with its record: host veth, VLAN link (kind, id, MAC, owner,
/// trunk), table 100+N (with the metadata deny route exactly when the record says Denied), the mode's pod route and rules, rp_filter, and inside the pod's namespace the address,
/// routes and the permanent neighbour 169.254.1.1 (<see cref="PodSideComparison"/>, shared with CNI CHECK). Every difference is one line naming the object.
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

        var d = found.Differences;
        CheckVeth(d, vethName, veth);
        CheckVlan(d, branch, vlan, veth);
        CheckTable(d, branch, vlan, veth, vethName);
        CheckRules(d, branch, vethName);
        if (veth is not null)
        {
            CheckPodSide(found, branch, veth);
        }

        return found;
    }

    private void CheckVeth(List<string> d, string name, Link? veth)
    {
        if (veth is null)
        {
            d.Add($"host veth {name} is missing");
            return;
        }

        Expect(d, veth.Kind == "veth", $"{name} is a {veth.Kind ?? "plain"} link, not a veth");
        Expect(d, veth.IsUp, $"host veth {name} is down");
        Expect(d, !string.IsNullOrEmpty(veth.Alias), $"host veth {name} has no owner alias (container id)");
        Expect(d, node.RpFilter(name) != 1, $"rp_filter on {name} is 1 (strict): the pod's packets are dropped; use 0 or 2");
    }

    private void CheckVlan(List<string> d, BranchEniAssignment branch, Link? vlan, Link? veth)
    {
        var name = branch.VlanLinkName;
        if (vlan is null)
        {
            d.Add($"{name} is missing");
            return;
        }

        Expect(d, node.VlanLink.Carries(vlan, branch.VlanId),
            $"{name} is not VLAN {branch.VlanId} (kind {vlan.Kind ?? "none"}, id {vlan.VlanId?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"})");
        Expect(d, vlan.IsUp, $"{name} is down");
        Expect(d, vlan.Mac is { } mac && mac.Equals(branch.Mac), $"{name} has MAC {KernelText.Mac(vlan)}, the record says {branch.MacText}");
        if (string.IsNullOrEmpty(vlan.Alias))
        {
            d.Add($"{name} has no owner alias (container id)");
        }
        else if (veth is not null && !string.IsNullOrEmpty(veth.Alias) && veth.Alias != vlan.Alias)
        {
            d.Add($"{name} belongs to container {vlan.Alias}, host veth {veth.Name} to {veth.Alias}");
        }

        if (node.TrunkLink is { } trunk && node.VlanLink.IsKind(vlan))
        {
            Expect(d, node.VlanLink.IsOnTrunk(vlan, trunk), $"{name} is not on the trunk {trunk.Name} (parent {node.Link(vlan.ParentIndex)?.Name ?? "unknown"})");
        }

        Expect(d, node.RpFilter(name) != 1, $"rp_filter on {name} is 1 (strict): replies to the pod are dropped; use 0 or 2");
    }

    private void CheckTable(List<string> d, BranchEniAssignment branch, Link? vlan, Link? veth, string vethName)
    {
        var table = branch.RouteTable;
        var routes = node.Routes.Where(r => r.Table == table).ToList();
        var gateway = new IPNetwork(branch.Gateway, 32);
        Expect(d, vlan is not null && routes.Any(r => r.Destination == gateway && r.Gateway is null && r.OutputIndex == vlan.Index),
            $"table {table} lacks {gateway} dev {branch.VlanLinkName} scope link");
        Expect(d, vlan is not null && routes.Any(r => r.Destination.PrefixLength == 0 && branch.Gateway.Equals(r.Gateway) && r.OutputIndex == vlan.Index),
            $"table {table} lacks default via {branch.Gateway} dev {branch.VlanLinkName}");
        var podTable = mode == EnforcingMode.Strict ? table : RouteTables.Main;
        var pod = new IPNetwork(branch.PrivateIp, 32);
        Expect(d, veth is not null && node.Routes.Any(r => r.Table == podTable && r.Destination == pod && r.OutputIndex == veth.Index),
            $"table {KernelText.Table(podTable)} lacks {pod} dev {vethName} scope link ({Name(mode)} mode)");
        var deny = KernelText.Route(BranchKernelLayout.MetadataDenyRoute(table), node);
        Expect(d, BranchKernelLayout.MetadataAccessOf(routes) == branch.MetadataAccess, branch.MetadataAccess == MetadataAccess.Denied
            ? $"table {table} lacks {deny}: the record's metadata access is Denied"
            : $"table {table} has {deny}: the record's metadata access is Allowed");
    }

    private void CheckRules(List<string> d, BranchEniAssignment branch, string vethName)
    {
        var table = branch.RouteTable;
        var strict = BranchKernelLayout.StrictRules(branch.VlanLinkName, vethName, table);
        var standard = BranchKernelLayout.StandardRules(branch.PrivateIp, table);
        var (wanted, unwanted) = mode == EnforcingMode.Strict ? (strict, standard) : (standard, strict);
        foreach (var rule in wanted)
        {
            Expect(d, node.Rules.Any(r => BranchKernelLayout.IsRule(r, rule)), $"{KernelText.Rule(rule)} is missing ({Name(mode)} mode)");
        }

        foreach (var rule in unwanted.Where(u => node.Rules.Any(r => BranchKernelLayout.IsRule(r, u))))
        {
            d.Add($"{KernelText.Rule(rule)} belongs to the other mode; the node is {Name(mode)}");
        }
    }

    private void CheckPodSide(PodFindings found, BranchEniAssignment branch, Link veth)
    {
        var (path, linkName, problem) = namespaces().Find(veth, branch.PrivateIp);
        if (problem is not null)
        {
            found.Differences.Add(problem);
            return;
        }

        found.PodNetns = path;
        try
        {
            CheckPodNamespace(found.Differences, branch, veth, path!, linkName!);
        }
        catch (NetlinkException e)
        {
            // The sandbox went away while we looked, or its namespace cannot be read: say so for this pod only.
            found.Differences.Add($"the pod's namespace {path} could not be read: {e.Message}");
        }
    }

    private static void CheckPodNamespace(List<string> d, BranchEniAssignment branch, Link veth, string path, string linkName)
    {
        using var pod = NetlinkHandle.Open(path);
        var link = pod.GetLink(linkName);
        var where = $"{link.Name} in {path}";
        Expect(d, link.Mtu == veth.Mtu, $"{where} has MTU {link.Mtu}, host veth {veth.Name} {veth.Mtu}");
        d.AddRange(PodSideComparison.Differences(pod, link, where, branch.PrivateIp, veth.Mac));
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
