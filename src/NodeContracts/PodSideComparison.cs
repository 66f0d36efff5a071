using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using BranchEni.Netlink;

namespace BranchEni.Contracts;

/// <summary>
/// The pod's side of a branch pod's kernel layout compared with the kernel, one comparison for CNI CHECK (which stops
/// at the first difference) and the agent's `verify` (which lists them all): the pod's interface up with
/// `&lt;ip&gt;/32`, the routes of <see cref="BranchKernelLayout.PodRoutes"/> and the permanent neighbour of
/// <see cref="BranchKernelLayout.PodNeighbour"/>. Lazy, so CHECK reads no more of the kernel than its first difference.
/// </summary>
internal static class PodSideComparison
{
    /// <param name="pod">A handle in the pod's namespace.</param>
    /// <param name="link">The pod's interface as read there.</param>
    /// <param name="where">How a message names that interface ("eth0 in the pod").</param>
    /// <param name="podIp">The pod's address.</param>
    /// <param name="hostVethMac">The host veth's MAC the neighbour must answer with.</param>
    public static IEnumerable<string> Differences(NetlinkHandle pod, Link link, string where, IPAddress podIp, PhysicalAddress? hostVethMac)
    {
        ArgumentNullException.ThrowIfNull(pod);
        ArgumentNullException.ThrowIfNull(link);
        return Compare(pod, link, where, podIp, hostVethMac);
    }

    private static IEnumerable<string> Compare(NetlinkHandle pod, Link link, string where, IPAddress podIp, PhysicalAddress? hostVethMac)
    {
        if (!link.IsUp)
        {
            yield return $"{where} is down";
        }

        if (!pod.ListAddresses(link.Index, AddressFamily.InterNetwork).Any(a => a.Address.Equals(podIp) && a.PrefixLength == 32))
        {
            yield return $"{where} lacks {podIp}/32";
        }

        var routes = pod.ListRoutes(AddressFamily.InterNetwork, RouteTables.Main);
        var gateway = BranchKernelLayout.PodGateway;
        if (!routes.Any(r => r.Destination == new IPNetwork(gateway, 32) && r.OutputIndex == link.Index))
        {
            yield return $"the pod lacks {gateway}/32 dev {link.Name} scope link";
        }

        if (!routes.Any(r => r.Destination.PrefixLength == 0 && gateway.Equals(r.Gateway) && r.OutputIndex == link.Index))
        {
            yield return $"the pod lacks default via {gateway} dev {link.Name}";
        }

        var neighbour = pod.ListNeighbours(link.Index, AddressFamily.InterNetwork).FirstOrDefault(n => n.Address.Equals(gateway));
        if (neighbour is null || (neighbour.State & NeighbourState.Permanent) == 0 || neighbour.Mac is not { } mac || !mac.Equals(hostVethMac))
        {
            yield return $"the pod lacks the permanent neighbour {gateway} lladdr {Mac(hostVethMac)} (has {Mac(neighbour?.Mac)})";
        }
    }

    private static string Mac(PhysicalAddress? mac) => mac is null ? "none" : BranchEniAssignment.FormatMac(mac);
}
