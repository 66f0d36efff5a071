using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using BranchEni.Netlink;
using BranchEni.Policy;

namespace BranchEni.Contracts;

/// <summary>
/// A <see cref="BranchPlumbing"/> compared with the kernel: one comparison for CNI CHECK (which stops at the first
/// difference) and the agent's `verify` (which lists them all). Each difference is one sentence naming the object.
/// Lazy, so CHECK reads no more of the kernel than its first difference needs.
/// </summary>
internal static class BranchPlumbingComparison
{
    /// <summary>The node's side: the host veth, the VLAN link, table 100+N, the pod's /32 route and the mode's rules.</summary>
    public static IEnumerable<string> HostDifferences(BranchPlumbing model, IHostKernel kernel, IBranchVlanLink vlanKind)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(kernel);
        ArgumentNullException.ThrowIfNull(vlanKind);
        return CompareHost(model, kernel, vlanKind);
    }

    /// <summary>The pod's side: its interface (MAC, the host veth's MTU, up), the address, the routes and the permanent
    /// neighbour.</summary>
    /// <param name="model">The pod's plumbing.</param>
    /// <param name="pod">A handle in the pod's namespace.</param>
    /// <param name="link">The pod's interface as read there.</param>
    /// <param name="where">How a message names that interface ("eth0 in the pod").</param>
    /// <param name="hostVeth">The host veth as read on the node: its MTU and MAC are what the pod's side must match.</param>
    public static IEnumerable<string> PodDifferences(BranchPlumbing model, NetlinkHandle pod, Link link, string where, Link hostVeth)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(pod);
        ArgumentNullException.ThrowIfNull(link);
        ArgumentNullException.ThrowIfNull(hostVeth);
        return ComparePod(model, pod, link, where, hostVeth);
    }

    /// <summary>The rules of the other mode that the kernel has for this pod: a node of one mode must have none.</summary>
    public static IEnumerable<Rule> OtherModeRules(BranchPlumbing model, IHostKernel kernel)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(kernel);
        return model.OtherModeRules.Where(u => kernel.Rules.Any(r => IsRule(r, u)));
    }

    /// <summary>Whether a rule read from the kernel is <paramref name="wanted"/> (one of <see cref="BranchPlumbing.Rules"/>):
    /// same priority, selectors and table, and nothing else selecting (oif, fwmark).</summary>
    public static bool IsRule(Rule actual, Rule wanted)
    {
        ArgumentNullException.ThrowIfNull(actual);
        ArgumentNullException.ThrowIfNull(wanted);
        return actual.Priority == wanted.Priority && actual.IifName == wanted.IifName && actual.From == wanted.From && actual.To == wanted.To
            && actual.Table == wanted.Table && actual.Action == RuleAction.ToTable && actual.OifName is null && actual.FwMark is null;
    }

    private static IEnumerable<string> CompareHost(BranchPlumbing model, IHostKernel kernel, IBranchVlanLink vlanKind)
    {
        var veth = kernel.Link(model.HostVeth);
        var vlan = kernel.Link(model.VlanLink);
        return Veth(model, veth)
            .Concat(Vlan(model, kernel, vlanKind, vlan, veth))
            .Concat(Table(model, kernel, vlan, veth))
            .Concat(Rules(model, kernel));
    }

    private static IEnumerable<string> Veth(BranchPlumbing model, Link? veth)
    {
        var name = model.HostVeth;
        if (veth is null)
        {
            yield return $"host veth {name} is missing";
            yield break;
        }

        if (veth.Kind != model.HostVethLink.Kind)
        {
            yield return $"{name} is a {veth.Kind ?? "plain"} link, not a veth";
        }

        if (!veth.IsUp)
        {
            yield return $"host veth {name} is down";
        }

        if (MacDiffers(veth, model.HostVethMac, model.ExpectedBy) is { } mac)
        {
            yield return mac;
        }

        if (model.ContainerId is { } owner ? veth.Alias != owner : string.IsNullOrEmpty(veth.Alias))
        {
            yield return model.ContainerId is null
                ? $"host veth {name} has no owner alias (container id)"
                : $"host veth {name} belongs to '{veth.Alias}', not {model.ContainerId}";
        }
    }

    private static IEnumerable<string> Vlan(BranchPlumbing model, IHostKernel kernel, IBranchVlanLink vlanKind, Link? vlan, Link? veth)
    {
        var name = model.VlanLink;
        if (vlan is null)
        {
            yield return $"{name} is missing";
            yield break;
        }

        if (!vlanKind.Carries(vlan, model.VlanId))
        {
            yield return $"{name} is not VLAN {model.VlanId} (kind {vlan.Kind ?? "none"}, id {vlan.VlanId?.ToString(CultureInfo.InvariantCulture) ?? "none"})";
        }

        if (!vlan.IsUp)
        {
            yield return $"{name} is down";
        }

        if (MacDiffers(vlan, model.BranchMac, model.ExpectedBy) is { } mac)
        {
            yield return mac;
        }

        if (model.ContainerId is { } owner)
        {
            if (vlan.Alias != owner)
            {
                yield return $"{name} belongs to '{vlan.Alias}', not {owner}";
            }
        }
        else if (string.IsNullOrEmpty(vlan.Alias))
        {
            yield return $"{name} has no owner alias (container id)";
        }
        else if (veth is not null && !string.IsNullOrEmpty(veth.Alias) && veth.Alias != vlan.Alias)
        {
            yield return $"{name} belongs to container {vlan.Alias}, host veth {veth.Name} to {veth.Alias}";
        }

        if (kernel.Link(model.Trunk) is { } trunk && vlanKind.IsKind(vlan) && !vlanKind.IsOnTrunk(vlan, trunk))
        {
            yield return $"{name} is not on the trunk {trunk.Name} (parent {kernel.Link(vlan.ParentIndex)?.Name ?? "unknown"})";
        }
    }

    private static IEnumerable<string> Table(BranchPlumbing model, IHostKernel kernel, Link? vlan, Link? veth)
    {
        var table = model.Table;
        var routes = kernel.RoutesOf(table);
        // CHECK does not know the gateway (prevResult does not carry it): the default route out of the VLAN link says it.
        var gateway = model.VpcGateway
            ?? routes.FirstOrDefault(r => r.Destination.PrefixLength == 0 && r.Gateway is not null && vlan is not null && r.OutputIndex == vlan.Index)?.Gateway;
        if (gateway is null)
        {
            yield return $"table {table} lacks the default route via the VPC gateway dev {model.VlanLink}";
        }
        else
        {
            var tableRoutes = model.VlanTableRoutes(gateway);
            var (onLink, viaGateway) = (tableRoutes[0], tableRoutes[1]);
            if (!routes.Any(r => onLink.IsMatchedBy(r, vlan?.Index)))
            {
                yield return $"table {table} lacks {gateway}/32 dev {model.VlanLink} scope link";
            }

            if (!routes.Any(r => viaGateway.IsMatchedBy(r, vlan?.Index)))
            {
                yield return $"table {table} lacks default via {gateway} dev {model.VlanLink}";
            }
        }

        var podRoute = model.PodHostRoute;
        var podTable = model.PodRouteTable;
        if (!(podTable == table ? routes : kernel.RoutesOf(podTable)).Any(r => podRoute.IsMatchedBy(r, veth?.Index)))
        {
            yield return $"table {PlumbingText.Table(podTable)} lacks {model.PodAddress} dev {model.HostVeth} scope link ({model.Mode.ConfigName()} mode)";
        }

        if (BranchKernelLayout.MetadataAccessOf(routes) != model.MetadataAccess)
        {
            var deny = $"unreachable {BranchKernelLayout.MetadataService}/32";
            yield return model.MetadataAccess == MetadataAccess.Denied
                ? $"table {table} lacks {deny}: the pod's metadata access is Denied"
                : $"table {table} has {deny}: the pod's metadata access is Allowed";
        }
    }

    private static IEnumerable<string> Rules(BranchPlumbing model, IHostKernel kernel)
    {
        foreach (var rule in model.Rules)
        {
            if (!kernel.Rules.Any(r => IsRule(r, rule)))
            {
                yield return $"{PlumbingText.Rule(rule)} is missing ({model.Mode.ConfigName()} mode)";
            }
        }
    }

    private static IEnumerable<string> ComparePod(BranchPlumbing model, NetlinkHandle pod, Link link, string where, Link hostVeth)
    {
        if (MacDiffers(link, model.PodMac, model.ExpectedBy) is { } mac)
        {
            yield return mac;
        }

        // ADD makes both ends with one MTU; ends that differ drop the larger packets one way.
        if (link.Mtu != hostVeth.Mtu)
        {
            yield return $"{where} has MTU {link.Mtu}, host veth {hostVeth.Name} {hostVeth.Mtu}";
        }

        if (!link.IsUp)
        {
            yield return $"{where} is down";
        }

        if (!pod.ListAddresses(link.Index, AddressFamily.InterNetwork).Any(a => a.Address.Equals(model.PodIp) && a.PrefixLength == 32))
        {
            yield return $"{where} lacks {model.PodAddress}";
        }

        var routes = pod.ListRoutes(AddressFamily.InterNetwork, RouteTables.Main);
        foreach (var route in model.PodRoutes)
        {
            if (!routes.Any(r => route.IsMatchedBy(r, link.Index)))
            {
                yield return $"the pod lacks {PodRouteText(route.Shape, link.Name)}";
            }
        }

        var gateway = BranchKernelLayout.PodGateway;
        var neighbour = pod.ListNeighbours(link.Index, AddressFamily.InterNetwork).FirstOrDefault(n => n.Address.Equals(gateway));
        if (neighbour is null || (neighbour.State & NeighbourState.Permanent) == 0 || neighbour.Mac is not { } actual || !actual.Equals(hostVeth.Mac))
        {
            yield return $"the pod lacks the permanent neighbour {gateway} lladdr {PlumbingText.Mac(hostVeth.Mac)} (has {PlumbingText.Mac(neighbour?.Mac)})";
        }
    }

    private static string PodRouteText(Route shape, string device) => shape.Gateway is { } via
        ? $"default via {via} dev {device}"
        : $"{shape.Destination} dev {device} scope link";

    private static string? MacDiffers(Link link, PhysicalAddress? expected, string expectedBy) =>
        expected is not null && !expected.Equals(link.Mac)
            ? $"{link.Name} has MAC {PlumbingText.Mac(link.Mac)}, {expectedBy} says {PlumbingText.Mac(expected)}"
            : null;
}
