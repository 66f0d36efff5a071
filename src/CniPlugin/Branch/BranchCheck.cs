using System.Net;
using System.Net.Sockets;
using BranchEni.Cni.Config;
using BranchEni.Cni.Protocol;
using BranchEni.Contracts;
using BranchEni.Netlink;
using BranchEni.Policy;

namespace BranchEni.Cni.Branch;

/// <summary>
/// CHECK for a branch pod: the kernel must match prevResult and the configured mode (links, MACs, VLAN id, owner,
/// address, routes, neighbour, rules), and the metadata deny route must match the pod's record (the desired state:
/// prevResult cannot say it). The first difference fails with a message naming it (code 105).
/// </summary>
internal sealed class BranchCheck(NetlinkHandle host, NetworkNamespace podNs, string containerId, EnforcingMode mode,
    IBranchVlanLink vlanLink)
{
    public void Run(BranchFootprint expected, MetadataAccess metadataAccess)
    {
        ArgumentNullException.ThrowIfNull(expected);
        var veth = host.TryGetLink(expected.HostVeth) ?? throw Differs($"host veth {expected.HostVeth} is missing");
        Expect(veth.Kind == "veth", $"{veth.Name} is a {veth.Kind} link, not a veth");
        Expect(veth.IsUp, $"host veth {veth.Name} is down");
        ExpectMac(veth, expected.HostVethMac);
        Expect(veth.Alias == containerId, $"host veth {veth.Name} belongs to '{veth.Alias}', not {containerId}");

        var vlan = host.TryGetLink(expected.VlanLink) ?? throw Differs($"{expected.VlanLink} is missing");
        Expect(vlanLink.Carries(vlan, expected.VlanId), $"{vlan.Name} is not VLAN {expected.VlanId} (kind {vlan.Kind}, id {vlan.VlanId})");
        Expect(vlan.IsUp, $"{vlan.Name} is down");
        ExpectMac(vlan, expected.VlanMac);
        Expect(vlan.Alias == containerId, $"{vlan.Name} belongs to '{vlan.Alias}', not {containerId}");

        var ip = expected.PodIp ?? throw Differs("prevResult has no IPv4 address on interface 1");
        CheckPod(expected, veth, ip);
        CheckTable(expected, vlan, veth, ip, metadataAccess);
        CheckRules(expected, veth, ip);
    }

    private void CheckPod(BranchFootprint expected, Link veth, IPAddress ip)
    {
        using var pod = podNs.OpenNetlink();
        var link = pod.TryGetLink(expected.PodIfName) ?? throw Differs($"{expected.PodIfName} is missing in {podNs.Path}");
        ExpectMac(link, expected.PodMac);
        if (PodSideComparison.Differences(pod, link, $"{link.Name} in the pod", ip, veth.Mac).FirstOrDefault() is { } difference)
        {
            throw Differs(difference);
        }
    }

    private void CheckTable(BranchFootprint expected, Link vlan, Link veth, IPAddress ip, MetadataAccess metadataAccess)
    {
        var table = host.ListRoutes(AddressFamily.InterNetwork, expected.Table);
        var defaultRoute = table.FirstOrDefault(r => r.Destination.PrefixLength == 0 && r.OutputIndex == vlan.Index && r.Gateway is not null)
            ?? throw Differs($"table {expected.Table} lacks the default route via the VPC gateway dev {vlan.Name}");
        Expect(table.Any(r => r.Destination == new IPNetwork(defaultRoute.Gateway!, 32) && r.OutputIndex == vlan.Index),
            $"table {expected.Table} lacks {defaultRoute.Gateway}/32 dev {vlan.Name}");
        var podRouteTable = mode == EnforcingMode.Strict ? expected.Table : RouteTables.Main;
        var podRoutes = mode == EnforcingMode.Strict ? table : host.ListRoutes(AddressFamily.InterNetwork, RouteTables.Main);
        Expect(podRoutes.Any(r => r.Destination == new IPNetwork(ip, 32) && r.OutputIndex == veth.Index),
            $"table {podRouteTable} lacks {ip}/32 dev {veth.Name}");
        var shown = BranchKernelLayout.MetadataAccessOf(table);
        Expect(shown == metadataAccess, metadataAccess == MetadataAccess.Denied
            ? $"table {expected.Table} lacks unreachable {BranchKernelLayout.MetadataService}/32: the pod's metadata access is Denied"
            : $"table {expected.Table} has unreachable {BranchKernelLayout.MetadataService}/32: the pod's metadata access is Allowed");
    }

    private void CheckRules(BranchFootprint expected, Link veth, IPAddress ip)
    {
        var rules = host.ListRules(AddressFamily.InterNetwork);
        var wanted = mode == EnforcingMode.Strict
            ? BranchKernelLayout.StrictRules(expected.VlanLink, veth.Name, expected.Table)
            : BranchKernelLayout.StandardRules(ip, expected.Table);
        foreach (var rule in wanted)
        {
            Expect(rules.Any(r => BranchKernelLayout.IsRule(r, rule)),
                $"rule missing: priority {rule.Priority} {Describe(rule)} lookup {rule.Table}");
        }
    }

    private static string Describe(Rule rule) =>
        rule.IifName is { } iif ? $"iif {iif}" : rule.From is { } f ? $"from {f}" : rule.To is { } t ? $"to {t}" : "all";

    private static void ExpectMac(Link link, string? mac)
    {
        if (mac is not null)
        {
            var actual = link.Mac is { } m ? BranchEniAssignment.FormatMac(m) : "none";
            Expect(string.Equals(actual, mac, StringComparison.OrdinalIgnoreCase), $"{link.Name} has MAC {actual}, prevResult says {mac}");
        }
    }

    private static void Expect(bool condition, string difference)
    {
        if (!condition)
        {
            throw Differs(difference);
        }
    }

    private static CniException Differs(string difference) => new(CniErrorCode.CheckMismatch, $"CHECK: {difference}");
}
