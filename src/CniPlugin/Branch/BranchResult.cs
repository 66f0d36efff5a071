using System.Net;
using BranchEni.Cni.Protocol;
using BranchEni.Contracts;
using BranchEni.Netlink;

namespace BranchEni.Cni.Branch;

/// <summary>
/// The ADD result of a branch pod and its inverse: interfaces [host veth, pod interface (sandbox), vlan link] and one
/// ip on interface 1. Everything DEL needs (host veth, VLAN id, pod IP) is in it, so DEL works from prevResult alone.
/// </summary>
internal static class BranchResult
{
    public static CniResult Build(BranchPlumbing layout, Link hostVeth, Link podLink, Link vlan, string netnsPath) => new()
    {
        Interfaces =
        [
            new ResultInterface { Name = hostVeth.Name, Mac = MacOf(hostVeth) },
            new ResultInterface { Name = podLink.Name, Mac = MacOf(podLink), Mtu = podLink.Mtu, Sandbox = netnsPath },
            new ResultInterface { Name = vlan.Name, Mac = MacOf(vlan) },
        ],
        Ips = [new ResultIp { Address = $"{layout.PodIp}/32", Gateway = BranchKernelLayout.PodGateway.ToString(), Interface = 1 }],
        Routes = [new ResultRoute { Dst = "0.0.0.0/0", Gw = BranchKernelLayout.PodGateway.ToString() }],
    };

    private static string? MacOf(Link link) => link.Mac is { } mac ? BranchEniAssignment.FormatMac(mac) : null;

    /// <summary>What a prevResult says about a branch pod; null when it is not one of ours (e.g. a delegate's).</summary>
    public static BranchFootprint? Read(CniResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var interfaces = result.Interfaces ?? [];
        var vlanEntry = interfaces.FirstOrDefault(i => i.Sandbox is null && BranchKernelLayout.VlanIdOf(i.Name) is not null);
        if (vlanEntry is null || interfaces.Count != 3 || interfaces[0].Sandbox is not null || interfaces[1].Sandbox is null)
        {
            return null;
        }

        IPAddress? ip = null;
        foreach (var entry in result.Ips ?? [])
        {
            if (entry.Interface == 1 && entry.Address is { } cidr && IPNetwork.TryParse(cidr, out var net)
                && net.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
            {
                ip = net.BaseAddress;
            }
        }

        return new BranchFootprint(interfaces[0].Name!, interfaces[1].Name!, BranchKernelLayout.VlanIdOf(vlanEntry.Name)!.Value, ip,
            interfaces[0].Mac, interfaces[1].Mac, vlanEntry.Mac, interfaces[1].Sandbox);
    }
}

/// <summary>The kernel objects of a branch pod as recorded in its ADD result.</summary>
internal sealed record BranchFootprint(
    string HostVeth, string PodIfName, int VlanId, IPAddress? PodIp, string? HostVethMac, string? PodMac, string? VlanMac, string? Sandbox)
{
    public string VlanLink => BranchKernelLayout.VlanLinkName(VlanId);

    public uint Table => BranchKernelLayout.TableOf(VlanId);
}
