using BranchEni.Contracts;
using BranchEni.Netlink;

namespace BranchEni.Testing;

/// <summary>
/// The branch's VLAN link on a host kernel without 8021q (no `type vlan`): a veth named vlan.eth.N with the branch MAC,
/// its peer `vpN` in the namespace playing the VPC, so every step around it runs for real. A veth has no VLAN id and
/// no parent (IFLA_LINK names its peer), so those checks pass by construction; the micro-VM tests cover them with real
/// 802.1Q. Compiled into CniPlugin.Tests and NodeAgent.Tests (linked source): both see the contracts' internals.
/// </summary>
internal sealed class VethVlanStandIn(NetworkNamespace? vpc) : IBranchVlanLink
{
    /// <summary>A stand-in that only recognises links, for tests that wire the node with `ip` themselves.</summary>
    public static readonly VethVlanStandIn Recognising = new(null);

    /// <summary>The peer's name in the vpc namespace for VLAN <paramref name="vlanId"/>.</summary>
    public static string PeerName(int vlanId) => $"vp{vlanId}";

    public void Create(NetlinkHandle host, VlanSpec spec)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(spec);
        var peerNamespace = vpc ?? throw new InvalidOperationException("this stand-in only recognises links; give it the vpc namespace to create them");
        host.AddVethPair(new VethPairSpec
        {
            Name = spec.Name, PeerName = PeerName(spec.VlanId), Mac = spec.Mac, Mtu = spec.Mtu, PeerNamespace = peerNamespace,
        });
    }

    public bool IsKind(Link link) => link.Kind == "veth";

    public bool Carries(Link link, int vlanId) => IsKind(link);

    public bool IsOnTrunk(Link link, Link trunk) => true;
}
