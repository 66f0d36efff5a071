using System.Net;
using System.Net.NetworkInformation;
using BranchEni.Contracts;
using BranchEni.Netlink;
using BranchEni.Policy;

namespace BranchEni.Cni.Tests.Contracts;

/// <summary>
/// The node's side of the comparison CHECK and `verify` share, on kernel-shaped records: a kernel made from the model
/// has no difference, and a kernel that lacks or changes each object names exactly that object. (The pod's side reads a
/// namespace; the host-kernel CHECK tests and the agent's verify tests prove it.)
/// </summary>
public sealed class BranchPlumbingComparisonTests
{
    private const string Veth = "vlan0123456789a";

    [Theory]
    [InlineData("strict", MetadataAccess.Allowed)]
    [InlineData("standard", MetadataAccess.Allowed)]
    [InlineData("strict", MetadataAccess.Denied)]
    [InlineData("standard", MetadataAccess.Denied)]
    public void AKernelMadeFromTheModelHasNoDifference(string mode, MetadataAccess access)
    {
        var model = BranchPlumbingModelTests.Model(BranchPlumbingModelTests.ModeOf(mode), access);

        Assert.Empty(Differences(model, RecordedKernel.Of(model)));
        Assert.Empty(BranchPlumbingComparison.OtherModeRules(model, RecordedKernel.Of(model)));
    }

    [Theory]
    [InlineData("veth-down", $"host veth {Veth} is down")]
    [InlineData("veth-kind", $"{Veth} is a dummy link, not a veth")]
    [InlineData("veth-owner", $"host veth {Veth} belongs to 'ctr-b', not ctr-a")]
    [InlineData("vlan-id", "vlan.eth.7 is not VLAN 7 (kind vlan, id 8)")]
    [InlineData("vlan-down", "vlan.eth.7 is down")]
    [InlineData("vlan-mac", "vlan.eth.7 has MAC 0e:ee:16:bd:41:99, the record says 0e:ee:16:bd:41:31")]
    [InlineData("vlan-owner", "vlan.eth.7 belongs to 'ctr-b', not ctr-a")]
    [InlineData("vlan-parent", "vlan.eth.7 is not on the trunk trunk0 (parent eth9)")]
    public void EachChangedLinkIsNamed(string change, string difference)
    {
        var model = BranchPlumbingModelTests.Model(EnforcingMode.Strict);
        var kernel = RecordedKernel.Of(model);
        kernel.Change(change);

        Assert.Equal(new[] { difference }, Differences(model, kernel));
    }

    [Fact]
    public void AMissingLinkIsNamedAndSoAreTheRoutesThatWentWithIt()
    {
        var model = BranchPlumbingModelTests.Model(EnforcingMode.Strict);
        var noVeth = RecordedKernel.Of(model);
        noVeth.Change("veth-missing");
        var noVlan = RecordedKernel.Of(model);
        noVlan.Change("vlan-missing");

        Assert.Equal(new[] { $"host veth {Veth} is missing", $"table 107 lacks 10.77.0.20/32 dev {Veth} scope link (strict mode)" },
            Differences(model, noVeth));
        Assert.Equal(new[] { "vlan.eth.7 is missing", "table 107 lacks 10.77.0.1/32 dev vlan.eth.7 scope link", "table 107 lacks default via 10.77.0.1 dev vlan.eth.7" },
            Differences(model, noVlan));
    }

    [Theory]
    [InlineData("strict", 0, "table 107 lacks 10.77.0.1/32 dev vlan.eth.7 scope link")]
    [InlineData("strict", 1, "table 107 lacks default via 10.77.0.1 dev vlan.eth.7")]
    [InlineData("strict", 2, $"table 107 lacks 10.77.0.20/32 dev {Veth} scope link (strict mode)")]
    [InlineData("standard", 2, $"table main lacks 10.77.0.20/32 dev {Veth} scope link (standard mode)")]
    public void EachMissingHostRouteIsNamed(string mode, int index, string difference)
    {
        var model = BranchPlumbingModelTests.Model(BranchPlumbingModelTests.ModeOf(mode));
        var kernel = RecordedKernel.Of(model);
        kernel.Routes.RemoveAt(index);

        Assert.Equal(new[] { difference }, Differences(model, kernel));
    }

    [Theory]
    [InlineData("strict", 0, "rule prio 10 iif vlan.eth.7 lookup 107 is missing (strict mode)")]
    [InlineData("strict", 1, $"rule prio 10 iif {Veth} lookup 107 is missing (strict mode)")]
    [InlineData("standard", 0, "rule prio 512 to 10.77.0.20 lookup main is missing (standard mode)")]
    [InlineData("standard", 1, "rule prio 1536 from 10.77.0.20 lookup 107 is missing (standard mode)")]
    public void EachMissingRuleIsNamed(string mode, int index, string difference)
    {
        var model = BranchPlumbingModelTests.Model(BranchPlumbingModelTests.ModeOf(mode));
        var kernel = RecordedKernel.Of(model);
        kernel.RuleList.RemoveAt(index);

        Assert.Equal(new[] { difference }, Differences(model, kernel));
    }

    [Fact]
    public void ARuleThatAlsoSelectsByFwmarkIsNotTheRule()
    {
        var model = BranchPlumbingModelTests.Model(EnforcingMode.Strict);
        var kernel = RecordedKernel.Of(model);
        kernel.RuleList[0] = kernel.RuleList[0] with { FwMark = 1 };

        Assert.Equal(new[] { "rule prio 10 iif vlan.eth.7 lookup 107 is missing (strict mode)" }, Differences(model, kernel));
    }

    [Fact]
    public void TheDenyRouteMustBeThereExactlyWhenAccessIsDenied()
    {
        var denied = BranchPlumbingModelTests.Model(EnforcingMode.Strict, MetadataAccess.Denied);
        var allowed = BranchPlumbingModelTests.Model(EnforcingMode.Strict);

        Assert.Equal(new[] { "table 107 lacks unreachable 169.254.169.254/32: the pod's metadata access is Denied" },
            Differences(denied, RecordedKernel.Of(allowed)));
        Assert.Equal(new[] { "table 107 has unreachable 169.254.169.254/32: the pod's metadata access is Allowed" },
            Differences(allowed, RecordedKernel.Of(denied)));
    }

    [Fact]
    public void AnUnknownGatewayIsLearnedFromTheDefaultRouteAndNamedWhenThatIsGone()
    {
        var model = BranchPlumbingModelTests.Model(EnforcingMode.Strict);
        var kernel = RecordedKernel.Of(model);
        var unknown = model with { VpcGateway = null };

        Assert.Empty(Differences(unknown, kernel));
        kernel.Routes.RemoveAt(0);
        Assert.Equal(new[] { "table 107 lacks 10.77.0.1/32 dev vlan.eth.7 scope link" }, Differences(unknown, kernel));
        kernel.Routes.RemoveAt(0);
        Assert.Equal(new[] { "table 107 lacks the default route via the VPC gateway dev vlan.eth.7" }, Differences(unknown, kernel));
    }

    [Fact]
    public void WithoutAContainerIdBothLinksMustNameOneOwner()
    {
        var model = BranchPlumbingModelTests.Model(EnforcingMode.Strict) with { ContainerId = null };
        var kernel = RecordedKernel.Of(model with { ContainerId = "ctr-z" });

        Assert.Empty(Differences(model, kernel));
        kernel.Change("vlan-owner");
        Assert.Equal(new[] { $"vlan.eth.7 belongs to container ctr-b, host veth {Veth} to ctr-z" }, Differences(model, kernel));
        kernel.Change("veth-no-owner");
        Assert.Equal(new[] { $"host veth {Veth} has no owner alias (container id)" }, Differences(model, kernel));
    }

    [Fact]
    public void TheOtherModesRulesAreReportedOnlyWhenTheKernelHasThem()
    {
        var strict = BranchPlumbingModelTests.Model(EnforcingMode.Strict);
        var kernel = RecordedKernel.Of(strict);
        kernel.RuleList.AddRange(strict.OtherModeRules.Take(1));

        Assert.Empty(Differences(strict, kernel));
        Assert.Equal(strict.OtherModeRules.Take(1), BranchPlumbingComparison.OtherModeRules(strict, kernel));
    }

    [Fact]
    public void CheckStopsReadingAtTheFirstDifference()
    {
        var model = BranchPlumbingModelTests.Model(EnforcingMode.Strict);
        var kernel = RecordedKernel.Of(model);
        kernel.Change("veth-down");

        Assert.Equal($"host veth {Veth} is down",
            BranchPlumbingComparison.HostDifferences(model, kernel, Dot1QVlanLink.Instance).First());
        Assert.Equal(0, kernel.TableReads);
        Assert.Equal(0, kernel.RuleReads);
    }

    private static List<string> Differences(BranchPlumbing model, RecordedKernel kernel) =>
        BranchPlumbingComparison.HostDifferences(model, kernel, Dot1QVlanLink.Instance).ToList();
}
