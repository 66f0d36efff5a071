using BranchEni.Netlink;

namespace BranchEni.Contracts;

/// <summary>The branch's VLAN link as every node has it: an IEEE 802.1Q sub-interface of the trunk, tagged with the
/// VLAN id AssociateTrunkInterface gave the branch ENI.</summary>
internal sealed class Dot1QVlanLink : IBranchVlanLink
{
    /// <summary>IFLA_INFO_KIND of an 802.1Q link (linux/net/8021q/vlan_netlink.c, `vlan_link_ops.kind`).</summary>
    public const string Kind = "vlan";

    public static readonly Dot1QVlanLink Instance = new();

    private Dot1QVlanLink()
    {
    }

    /// <summary>Equivalent to: `ip link add link TRUNK name vlan.eth.N address MAC type vlan id N`.</summary>
    public void Create(NetlinkHandle host, VlanSpec spec)
    {
        ArgumentNullException.ThrowIfNull(host);
        host.AddVlan(spec);
    }

    public bool IsKind(Link link) => link.Kind == Kind;

    public bool Carries(Link link, int vlanId) => IsKind(link) && link.VlanId == vlanId;

    /// <summary>IFLA_LINK of a VLAN link is its parent's index.</summary>
    public bool IsOnTrunk(Link link, Link trunk) => link.ParentIndex == trunk.Index;
}
