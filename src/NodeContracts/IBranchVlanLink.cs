using BranchEni.Netlink;

namespace BranchEni.Contracts;

/// <summary>
/// The branch's VLAN link (DESIGN.md §2, `vlan.eth.N` on the trunk): how ADD creates it, and how DEL, GC, CHECK and the
/// agent's debug commands recognise a link as one. A node has exactly one kind, <see cref="Dot1QVlanLink"/>; the
/// interface exists because the host kernel the tests run on has no 8021q, so its tests put a veth in that place
/// (tests/Shared/VethVlanStandIn.cs) and every other step stays the real one.
/// </summary>
/// <remarks>It lives here, not in src/Netlink, because it knows our layout (the `vlan.eth.N` name, the branch's VLAN id):
/// the netlink library stays a library of verbs, and this assembly is what the CNI and the agent both reference.</remarks>
internal interface IBranchVlanLink
{
    /// <summary>Creates the link in <paramref name="host"/>'s namespace (ADD's "vlan" step).</summary>
    void Create(NetlinkHandle host, VlanSpec spec);

    /// <summary>Whether the link is of the kind branch VLAN links are; the name and the owner alias say the rest.</summary>
    bool IsKind(Link link);

    /// <summary>Whether the link is of that kind and carries VLAN <paramref name="vlanId"/> (CHECK, `verify`).</summary>
    bool Carries(Link link, int vlanId);

    /// <summary>Whether the link hangs off <paramref name="trunk"/> (`verify`).</summary>
    bool IsOnTrunk(Link link, Link trunk);

    /// <summary>A link of that kind named `vlan.eth.N` with N in 1..4094: one of ours, whoever owns it (GC, the debug
    /// commands' list of VLAN links).</summary>
    bool IsBranchVlanLink(Link link) => IsKind(link) && BranchKernelLayout.VlanIdOf(link.Name) is not null;
}
