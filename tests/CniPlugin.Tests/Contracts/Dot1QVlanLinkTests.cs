using BranchEni.Contracts;
using BranchEni.Netlink;

namespace BranchEni.Cni.Tests.Contracts;

/// <summary>How every node recognises a branch's VLAN link. The host-kernel tests put a veth in its place, so these
/// checks (kind, 802.1Q id, parent) are proved here on kernel-shaped records and end to end in the micro-VM.</summary>
public sealed class Dot1QVlanLinkTests
{
    private static Link Vlan(string name = "vlan.eth.7", int? id = 7, string? kind = "vlan", int? parent = 2) =>
        new() { Index = 9, Name = name, Kind = kind, VlanId = id, ParentIndex = parent };

    [Fact]
    public void AVlanLinkCarriesOnlyItsOwnId()
    {
        var link = Vlan();

        Assert.True(Dot1QVlanLink.Instance.Carries(link, 7));
        Assert.False(Dot1QVlanLink.Instance.Carries(link, 8));
    }

    [Theory]
    [InlineData("veth")]
    [InlineData("macvlan")]
    [InlineData(null)]
    public void ALinkOfAnotherKindIsNoVlanLinkEvenWithTheRightNameAndId(string? kind)
    {
        var link = Vlan(kind: kind);

        Assert.False(Dot1QVlanLink.Instance.IsKind(link));
        Assert.False(Dot1QVlanLink.Instance.Carries(link, 7));
        Assert.False(((IBranchVlanLink)Dot1QVlanLink.Instance).IsBranchVlanLink(link));
    }

    [Theory]
    [InlineData("vlan.eth.7", true)]
    [InlineData("vlan.eth.4094", true)]
    [InlineData("vlan.eth.0", false)]
    [InlineData("vlan.eth.07", false)]
    [InlineData("eth0.7", false)]
    public void OnlyVlanLinksNamedForABranchVlanAreOurs(string name, bool ours)
    {
        IBranchVlanLink vlanLink = Dot1QVlanLink.Instance;

        Assert.Equal(ours, vlanLink.IsBranchVlanLink(Vlan(name)));
    }

    [Fact]
    public void AVlanLinkIsOnTheTrunkOnlyWhenTheTrunkIsItsParent()
    {
        var trunk = new Link { Index = 2, Name = "ens6" };

        Assert.True(Dot1QVlanLink.Instance.IsOnTrunk(Vlan(parent: 2), trunk));
        Assert.False(Dot1QVlanLink.Instance.IsOnTrunk(Vlan(parent: 3), trunk));
        Assert.False(Dot1QVlanLink.Instance.IsOnTrunk(Vlan(parent: null), trunk));
    }
}
