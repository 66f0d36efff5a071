using System.Net;
using System.Net.NetworkInformation;
using BranchEni.Contracts;
using BranchEni.Netlink;
using BranchEni.Policy;

namespace BranchEni.Cni.Tests.Contracts;

/// <summary>What a branch pod's plumbing is (DESIGN.md §2), object by object, in both modes.</summary>
public sealed class BranchPlumbingModelTests
{
    internal static BranchPlumbing Model(EnforcingMode mode, MetadataAccess access = MetadataAccess.Allowed) => new()
    {
        ContainerId = "ctr-a",
        HostVeth = "vlan0123456789a",
        PodIfName = "eth0",
        VlanId = 7,
        BranchMac = PhysicalAddress.Parse("0e:ee:16:bd:41:31"),
        PodIp = IPAddress.Parse("10.77.0.20"),
        VpcGateway = IPAddress.Parse("10.77.0.1"),
        Mtu = 9001,
        Mode = mode,
        MetadataAccess = access,
        Trunk = "trunk0",
    };

    [Fact]
    public void StrictModelListsEveryObjectWithThePodRouteInItsTableAndIifRules()
    {
        string[] expected =
        [
            "host link vlan0123456789a type veth mtu 9001 alias ctr-a up",
            "host link vlan.eth.7 type vlan id 7 link trunk0 address 0e:ee:16:bd:41:31 alias ctr-a up",
            "host route 10.77.0.1/32 dev vlan.eth.7 scope link table 107",
            "host route default via 10.77.0.1 dev vlan.eth.7 table 107",
            "host route 10.77.0.20/32 dev vlan0123456789a scope link table 107",
            "rule prio 10 iif vlan.eth.7 lookup 107",
            "rule prio 10 iif vlan0123456789a lookup 107",
            "pod link eth0 type veth mtu 9001 up",
            "pod address 10.77.0.20/32 dev eth0",
            "pod route 169.254.1.1/32 dev eth0 scope link table main",
            "pod route default via 169.254.1.1 dev eth0 table main",
            "pod neigh 169.254.1.1 dev eth0 lladdr <vlan0123456789a's MAC> permanent",
        ];

        Assert.Equal(expected, Model(EnforcingMode.Strict).Describe());
    }

    [Fact]
    public void StandardModelPutsThePodRouteInMainAndUsesToAndFromRules()
    {
        var lines = Model(EnforcingMode.Standard).Describe().ToList();

        Assert.Contains("host route 10.77.0.20/32 dev vlan0123456789a scope link table main", lines);
        Assert.Equal(
            new[] { "rule prio 512 to 10.77.0.20 lookup main", "rule prio 1536 from 10.77.0.20 lookup 107" },
            lines.Where(l => l.StartsWith("rule ", StringComparison.Ordinal)));
        Assert.Equal(12, lines.Count);
    }

    [Theory]
    [InlineData("strict")]
    [InlineData("standard")]
    public void ADeniedPodAlsoHasTheUnreachableMetadataRouteInItsTable(string mode)
    {
        var allowed = Model(ModeOf(mode)).HostRoutes;
        var denied = Model(ModeOf(mode), MetadataAccess.Denied).HostRoutes;

        var extra = Assert.Single(denied.Except(allowed));
        Assert.Equal(RouteType.Unreachable, extra.Shape.Type);
        Assert.Equal(new IPNetwork(IPAddress.Parse("169.254.169.254"), 32), extra.Shape.Destination);
        Assert.Equal(107u, extra.Shape.Table);
        Assert.Null(extra.Device);
        Assert.DoesNotContain(allowed, r => r.Shape.Type == RouteType.Unreachable);
    }

    [Fact]
    public void TheOtherModesRulesAreTheRulesOfTheSamePodInThatMode()
    {
        Assert.Equal(Model(EnforcingMode.Standard).Rules, Model(EnforcingMode.Strict).OtherModeRules);
        Assert.Equal(Model(EnforcingMode.Strict).Rules, Model(EnforcingMode.Standard).OtherModeRules);
    }

    [Fact]
    public void ARouteIsBoundToItsDeviceIndexOnlyWhenApplied()
    {
        var route = Model(EnforcingMode.Strict).PodHostRoute;

        Assert.Null(route.Shape.OutputIndex);
        Assert.Equal(42, route.Bind(42).OutputIndex);
        Assert.True(route.IsMatchedBy(route.Bind(42), 42));
        Assert.False(route.IsMatchedBy(route.Bind(42), 43));
        Assert.False(route.IsMatchedBy(route.Bind(42) with { Table = RouteTables.Main }, 42));
    }

    [Fact]
    public void UnknownGatewayLeavesTheTablesTwoRoutesOutOfTheHostRoutes()
    {
        var model = Model(EnforcingMode.Strict) with { VpcGateway = null };

        Assert.Equal(new[] { model.PodHostRoute }, model.HostRoutes);
        Assert.Contains("host route default via ? dev vlan.eth.7 table 107", model.Describe());
    }

    internal static EnforcingMode ModeOf(string name) => EnforcingModes.FromConfigName(name) ?? throw new ArgumentException(name, nameof(name));
}
