using System.Net.NetworkInformation;

namespace BranchEni.Netlink;

public sealed partial class NetlinkHandle
{
    /// <summary>Equivalent to: `ip -d link show dev NAME`. Throws NetlinkException (ENODEV) when absent.</summary>
    public Link GetLink(string name) => throw new NotImplementedException();

    /// <summary>Equivalent to: `ip -d link show dev NAME`; null when absent.</summary>
    public Link? TryGetLink(string name) => throw new NotImplementedException();

    /// <summary>Equivalent to: `ip -d link show` filtered on the index. Throws NetlinkException (ENODEV) when absent.</summary>
    public Link GetLink(int index) => throw new NotImplementedException();

    /// <summary>Like <see cref="GetLink(int)"/>; null when absent.</summary>
    public Link? TryGetLink(int index) => throw new NotImplementedException();

    /// <summary>The first link whose MAC equals <paramref name="mac"/>, or null.
    /// Equivalent to: `ip -d link show` filtered on "link/ether MAC".</summary>
    public Link? FindLinkByMac(PhysicalAddress mac) => throw new NotImplementedException();

    /// <summary>Equivalent to: `ip -d link show`.</summary>
    public IReadOnlyList<Link> ListLinks() => throw new NotImplementedException();

    /// <summary>Creates a veth pair, the peer directly in <see cref="VethPairSpec.PeerNamespace"/> when given.
    /// Equivalent to: `ip link add NAME mtu M address MAC type veth peer name PEER mtu M address PMAC netns NS`.</summary>
    public void AddVethPair(VethPairSpec spec) => throw new NotImplementedException();

    /// <summary>Creates an 802.1Q link on a parent, directly in <see cref="VlanSpec.Namespace"/> when given.
    /// Equivalent to: `ip link add link PARENT name NAME address MAC mtu M netns NS type vlan id N`.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The VLAN id is outside 1..4094 (the kernel is not asked).</exception>
    public void AddVlan(VlanSpec spec) => throw new NotImplementedException();

    /// <summary>Equivalent to: `ip link set dev IFINDEX up`.</summary>
    public void SetLinkUp(int index) => throw new NotImplementedException();

    /// <summary>Equivalent to: `ip link set dev IFINDEX down`.</summary>
    public void SetLinkDown(int index) => throw new NotImplementedException();

    /// <summary>Equivalent to: `ip link set dev IFINDEX mtu MTU`.</summary>
    public void SetLinkMtu(int index, int mtu) => throw new NotImplementedException();

    /// <summary>Equivalent to: `ip link set dev IFINDEX address MAC`.</summary>
    public void SetLinkMac(int index, PhysicalAddress mac) => throw new NotImplementedException();

    /// <summary>Equivalent to: `ip link set dev IFINDEX name NAME` (the link must be down for most kinds).</summary>
    public void SetLinkName(int index, string name) => throw new NotImplementedException();

    /// <summary>Moves the link into another namespace. Equivalent to: `ip link set dev IFINDEX netns NS`.</summary>
    public void SetLinkNamespace(int index, NetworkNamespace target) => throw new NotImplementedException();

    /// <summary>Equivalent to: `ip link set dev IFINDEX alias ALIAS` (an empty alias removes it).</summary>
    public void SetLinkAlias(int index, string alias) => throw new NotImplementedException();

    /// <summary>Equivalent to: `ip link del dev IFINDEX`. Throws NetlinkException (ENODEV) when absent.</summary>
    public void DeleteLink(int index) => throw new NotImplementedException();

    /// <summary>Equivalent to: `ip link del dev NAME`. Throws NetlinkException (ENODEV) when absent.</summary>
    public void DeleteLink(string name) => throw new NotImplementedException();

    /// <summary>Equivalent to: `ip link del dev NAME`, where "no such device" is success; false if it was absent.</summary>
    public bool DeleteLinkIfExists(string name) => throw new NotImplementedException();

    /// <summary>Equivalent to: `ip link del dev IFINDEX`, where "no such device" is success; false if it was absent.</summary>
    public bool DeleteLinkIfExists(int index) => throw new NotImplementedException();
}
