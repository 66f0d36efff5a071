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

        Assert.Empty(Differences(model, Kernel.Of(model)));
        Assert.Empty(BranchPlumbingComparison.OtherModeRules(model, Kernel.Of(model)));
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
        var kernel = Kernel.Of(model);
        kernel.Change(change);

        Assert.Equal(new[] { difference }, Differences(model, kernel));
    }

    [Fact]
    public void AMissingLinkIsNamedAndSoAreTheRoutesThatWentWithIt()
    {
        var model = BranchPlumbingModelTests.Model(EnforcingMode.Strict);
        var noVeth = Kernel.Of(model);
        noVeth.Change("veth-missing");
        var noVlan = Kernel.Of(model);
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
        var kernel = Kernel.Of(model);
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
        var kernel = Kernel.Of(model);
        kernel.RuleList.RemoveAt(index);

        Assert.Equal(new[] { difference }, Differences(model, kernel));
    }

    [Fact]
    public void ARuleThatAlsoSelectsByFwmarkIsNotTheRule()
    {
        var model = BranchPlumbingModelTests.Model(EnforcingMode.Strict);
        var kernel = Kernel.Of(model);
        kernel.RuleList[0] = kernel.RuleList[0] with { FwMark = 1 };

        Assert.Equal(new[] { "rule prio 10 iif vlan.eth.7 lookup 107 is missing (strict mode)" }, Differences(model, kernel));
    }

    [Fact]
    public void TheDenyRouteMustBeThereExactlyWhenAccessIsDenied()
    {
        var denied = BranchPlumbingModelTests.Model(EnforcingMode.Strict, MetadataAccess.Denied);
        var allowed = BranchPlumbingModelTests.Model(EnforcingMode.Strict);

        Assert.Equal(new[] { "table 107 lacks unreachable 169.254.169.254/32: the pod's metadata access is Denied" },
            Differences(denied, Kernel.Of(allowed)));
        Assert.Equal(new[] { "table 107 has unreachable 169.254.169.254/32: the pod's metadata access is Allowed" },
            Differences(allowed, Kernel.Of(denied)));
    }

    [Fact]
    public void AnUnknownGatewayIsLearnedFromTheDefaultRouteAndNamedWhenThatIsGone()
    {
        var model = BranchPlumbingModelTests.Model(EnforcingMode.Strict);
        var kernel = Kernel.Of(model);
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
        var kernel = Kernel.Of(model with { ContainerId = "ctr-z" });

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
        var kernel = Kernel.Of(strict);
        kernel.RuleList.AddRange(strict.OtherModeRules.Take(1));

        Assert.Empty(Differences(strict, kernel));
        Assert.Equal(strict.OtherModeRules.Take(1), BranchPlumbingComparison.OtherModeRules(strict, kernel));
    }

    [Fact]
    public void CheckStopsReadingAtTheFirstDifference()
    {
        var model = BranchPlumbingModelTests.Model(EnforcingMode.Strict);
        var kernel = Kernel.Of(model);
        kernel.Change("veth-down");

        Assert.Equal($"host veth {Veth} is down",
            BranchPlumbingComparison.HostDifferences(model, kernel, Dot1QVlanLink.Instance).First());
        Assert.Equal(0, kernel.TableReads);
        Assert.Equal(0, kernel.RuleReads);
    }

    private static List<string> Differences(BranchPlumbing model, Kernel kernel) =>
        BranchPlumbingComparison.HostDifferences(model, kernel, Dot1QVlanLink.Instance).ToList();

    /// <summary>A node's kernel as records, as NodeSnapshot holds one read from netlink.</summary>
    private sealed class Kernel : IHostKernel
    {
        public List<Link> Links { get; } = [];

        public List<Route> Routes { get; } = [];

        public List<Rule> RuleList { get; } = [];

        public int TableReads { get; private set; }

        public int RuleReads { get; private set; }

        public IReadOnlyList<Rule> Rules
        {
            get
            {
                RuleReads++;
                return RuleList;
            }
        }

        public static Kernel Of(BranchPlumbing model)
        {
            var kernel = new Kernel();
            kernel.Links.Add(new Link { Index = 2, Name = "trunk0", Flags = LinkFlags.Up });
            kernel.Links.Add(new Link { Index = 3, Name = "eth9", Flags = LinkFlags.Up });
            kernel.Links.Add(new Link
            {
                Index = 10, Name = model.HostVeth, Kind = "veth", Flags = LinkFlags.Up, Alias = model.ContainerId, Mtu = 9001,
                Mac = PhysicalAddress.Parse("02:00:00:00:00:0a"),
            });
            kernel.Links.Add(new Link
            {
                Index = 11, Name = model.VlanLink, Kind = "vlan", VlanId = model.VlanId, ParentIndex = 2, Flags = LinkFlags.Up,
                Alias = model.ContainerId, Mac = model.BranchMac,
            });
            kernel.Routes.AddRange(model.HostRoutes.Select(r => r.Bind(kernel.Link(r.Device)?.Index) with { Table = r.Shape.Table ?? RouteTables.Main }));
            kernel.RuleList.AddRange(model.Rules);
            return kernel;
        }

        public void Change(string change)
        {
            var (name, edit) = change switch
            {
                "veth-missing" => (Veth, (Func<Link, Link?>)(_ => null)),
                "veth-down" => (Veth, l => l with { Flags = 0 }),
                "veth-kind" => (Veth, l => l with { Kind = "dummy" }),
                "veth-owner" => (Veth, l => l with { Alias = "ctr-b" }),
                "veth-no-owner" => (Veth, l => l with { Alias = null }),
                "vlan-missing" => ("vlan.eth.7", _ => null),
                "vlan-id" => ("vlan.eth.7", l => l with { VlanId = 8 }),
                "vlan-down" => ("vlan.eth.7", l => l with { Flags = 0 }),
                "vlan-mac" => ("vlan.eth.7", l => l with { Mac = PhysicalAddress.Parse("0e:ee:16:bd:41:99") }),
                "vlan-owner" => ("vlan.eth.7", l => l with { Alias = "ctr-b" }),
                "vlan-parent" => ("vlan.eth.7", l => l with { ParentIndex = 3 }),
                _ => throw new ArgumentException($"no change {change}", nameof(change)),
            };
            var at = Links.FindIndex(l => l.Name == name);
            if (edit(Links[at]) is { } changed)
            {
                Links[at] = changed;
                return;
            }

            // As the kernel does: a link's routes go with it.
            var index = Links[at].Index;
            Links.RemoveAt(at);
            Routes.RemoveAll(r => r.OutputIndex == index);
        }

        public Link? Link(string? name) => Links.FirstOrDefault(l => l.Name == name);

        public Link? Link(int? index) => Links.FirstOrDefault(l => l.Index == index);

        public IEnumerable<Route> RoutesOf(uint table)
        {
            TableReads++;
            return Routes.Where(r => r.Table == table);
        }
    }
}
