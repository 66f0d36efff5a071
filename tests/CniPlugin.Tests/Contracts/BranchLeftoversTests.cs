using System.Net;
using System.Net.NetworkInformation;
using BranchEni.Contracts;
using BranchEni.Netlink;
using BranchEni.Policy;

namespace BranchEni.Cni.Tests.Contracts;

/// <summary>The one definition of branch garbage (DEL, GC, `cleanup`) on a node of recorded objects: two pods wired as
/// their models say, one of them gone.</summary>
public sealed class BranchLeftoversTests
{
    private static readonly BranchPlumbing Gone = BranchPlumbingModelTests.Model(EnforcingMode.Strict, MetadataAccess.Denied);

    private static BranchPlumbing Live(EnforcingMode mode) => BranchPlumbingModelTests.Model(mode) with
    {
        ContainerId = "ctr-b", HostVeth = "vlanbbbbbbbbbbb", VlanId = 8, PodIp = IPAddress.Parse("10.77.0.21"),
        BranchMac = PhysicalAddress.Parse("0e:ee:16:bd:41:32"),
    };

    [Theory]
    [InlineData("strict")]
    [InlineData("standard")]
    public void Del_of_one_pod_plans_exactly_its_model_and_nothing_of_its_neighbour(string modeName)
    {
        var mode = BranchPlumbingModelTests.ModeOf(modeName);
        var gone = Gone with { Mode = mode };
        var live = Live(mode);
        var kernel = RecordedKernel.Of(gone).With(live, 20);

        var plan = BranchLeftovers.Plan(kernel, [new GoneBranch("DEL") { ContainerId = "ctr-a" }], Dot1QVlanLink.Instance, TableSweep.DenyRouteOnly);

        Assert.Equal(ByPriority(gone.Rules), RulesOf(plan));
        Assert.Equal([gone.HostVeth, gone.VlanLink], plan.Select(l => l.Link?.Name).OfType<string>());
        Assert.Equal([gone.MetadataDenyRoute], plan.Select(l => l.Route).OfType<Route>());
        // Rules, then links, then the table's leftover.
        Assert.Equal(plan.Count, plan.TakeWhile(l => l.Rule is not null).Count() + 2 + 1);
        // DEL reads no table; standard mode reads main once, for the addresses its veths route.
        Assert.Equal(mode == EnforcingMode.Standard ? 1 : 0, kernel.TableReads);
    }

    [Fact]
    public void Names_known_from_prev_result_take_unowned_links_of_a_killed_add_and_rules_naming_a_veth_already_gone()
    {
        var gone = Gone with { ContainerId = null };
        var kernel = RecordedKernel.Of(gone);
        kernel.Links.RemoveAll(l => l.Name == gone.HostVeth);

        var plan = BranchLeftovers.Plan(kernel, [new GoneBranch("DEL") { ContainerId = "ctr-a", VlanIds = [7], HostVeths = [gone.HostVeth] }],
            Dot1QVlanLink.Instance, TableSweep.DenyRouteOnly);

        Assert.Equal(ByPriority(gone.Rules), RulesOf(plan));
        Assert.Equal([gone.VlanLink], plan.Select(l => l.Link?.Name).OfType<string>());
    }

    [Fact]
    public void A_vlan_another_container_holds_again_keeps_its_table_and_rules_and_its_link()
    {
        // ctr-a's record says VLAN 7, but vlan.eth.7 is now ctr-b's: only ctr-a's veth and the rule naming it go.
        var holder = Gone with { ContainerId = "ctr-b", HostVeth = "vlanbbbbbbbbbbb" };
        var kernel = RecordedKernel.Of(holder);
        kernel.Links.Add(new Link { Index = 30, Name = Gone.HostVeth, Kind = "veth", Alias = "ctr-a" });
        var stale = new Rule { Priority = BranchKernelLayout.StrictRulePriority, IifName = Gone.HostVeth, Table = 107 };
        kernel.RuleList.Add(stale);

        var plan = BranchLeftovers.Plan(kernel, [new GoneBranch("DEL") { ContainerId = "ctr-a", VlanIds = [7] }], Dot1QVlanLink.Instance, TableSweep.EveryRoute);

        Assert.Equal([stale], plan.Select(l => l.Rule).OfType<Rule>());
        Assert.Equal([Gone.HostVeth], plan.Select(l => l.Link?.Name).OfType<string>());
        Assert.DoesNotContain(plan, l => l.Route is not null);
    }

    [Fact]
    public void A_standard_pods_prio_512_rule_goes_with_it_unless_a_live_veth_routes_that_address_now()
    {
        var gone = Gone with { Mode = EnforcingMode.Standard };
        var kernel = RecordedKernel.Of(gone);
        var lone = new Rule { Priority = BranchKernelLayout.StandardToPodPriority, To = new IPNetwork(IPAddress.Parse("10.1.2.3"), 32), Table = RouteTables.Main };
        kernel.RuleList.Add(lone);
        var goneBranch = new GoneBranch("DEL") { ContainerId = "ctr-a" };

        var plan = BranchLeftovers.Plan(kernel, [goneBranch], Dot1QVlanLink.Instance, TableSweep.DenyRouteOnly);
        Assert.Equal(ByPriority(gone.Rules), RulesOf(plan));

        // The address moved to a live pod (its /32 route in main through its veth): the 512 rule is that pod's now.
        kernel.Links.Add(new Link { Index = 40, Name = "vlanccccccccccc", Kind = "veth", Alias = "ctr-c" });
        kernel.Routes.Add(new Route { Destination = new IPNetwork(gone.PodIp, 32), OutputIndex = 40, Table = RouteTables.Main });
        plan = BranchLeftovers.Plan(kernel, [goneBranch], Dot1QVlanLink.Instance, TableSweep.DenyRouteOnly);
        Assert.Equal(gone.Rules.Where(r => r.Priority != BranchKernelLayout.StandardToPodPriority), RulesOf(plan));
    }

    [Fact]
    public void An_unknown_owner_of_a_vlan_takes_its_link_whatever_the_alias_and_every_route_in_its_table()
    {
        var kernel = RecordedKernel.Of(Gone);
        var foreign = new Route { Destination = new IPNetwork(IPAddress.Parse("10.77.0.99"), 32), OutputIndex = 2, Table = 107 };
        kernel.Routes.Add(foreign);
        kernel.Routes.Add(Gone.MetadataDenyRoute);

        var plan = BranchLeftovers.Plan(kernel, [new GoneBranch("no record has VLAN 7") { VlanIds = [7] }], Dot1QVlanLink.Instance, TableSweep.EveryRoute);

        Assert.Equal([Gone.VlanLink], plan.Select(l => l.Link?.Name).OfType<string>());
        Assert.Equal(ByPriority(Gone.Rules), RulesOf(plan));
        var routes = plan.Where(l => l.Route is not null).ToList();
        Assert.Equal(kernel.Routes.Count(r => r.Table == 107), routes.Count);
        Assert.All(routes.Where(l => l.Route!.OutputIndex == 11), l => Assert.Equal(Gone.VlanLink, l.GoesWith));
        Assert.Null(routes.Single(l => l.Route == foreign).GoesWith);
        Assert.All(plan, l => Assert.Equal("no record has VLAN 7", l.Why));
    }

    [Theory]
    [InlineData("strict")]
    [InlineData("standard")]
    public void A_live_pods_strays_are_what_its_table_and_name_carry_that_it_has_in_neither_mode(string modeName)
    {
        var live = Gone with { Mode = BranchPlumbingModelTests.ModeOf(modeName) };
        var kernel = RecordedKernel.Of(live);
        var iif = new Rule { Priority = BranchKernelLayout.StrictRulePriority, IifName = "eth9", Table = live.Table };
        var from = new Rule { Priority = BranchKernelLayout.StandardFromPodPriority, From = new IPNetwork(IPAddress.Parse("10.77.0.99"), 32), Table = live.Table };
        var pair = new Rule { Priority = BranchKernelLayout.StandardToPodPriority, To = new IPNetwork(IPAddress.Parse("10.77.0.99"), 32), Table = RouteTables.Main };
        var held = new Rule { Priority = BranchKernelLayout.StandardFromPodPriority, From = new IPNetwork(IPAddress.Parse("10.77.0.98"), 32), Table = live.Table };
        var heldPair = new Rule { Priority = BranchKernelLayout.StandardToPodPriority, To = new IPNetwork(IPAddress.Parse("10.77.0.98"), 32), Table = RouteTables.Main };
        var elsewhere = new Rule { Priority = 300, IifName = "eth9", Table = live.Table };
        kernel.RuleList.AddRange([iif, from, pair, held, heldPair, elsewhere]);
        // Both modes' own rules are the pod's (the other mode's are `verify`'s to name, not garbage).
        kernel.RuleList.AddRange(live.OtherModeRules);
        var at = kernel.Links.FindIndex(l => l.Name == live.VlanLink);
        kernel.Links[at] = kernel.Links[at] with { Alias = "ctr-old" };

        var strays = BranchLeftovers.Strays(kernel, live, "default/green", new HashSet<IPAddress> { IPAddress.Parse("10.77.0.98") }).ToList();

        Assert.Equal(ByPriority([iif, from, held, pair]), RulesOf(strays));
        Assert.Equal("iif eth9 is not default/green's", strays.Single(l => l.Rule == iif).Why);
        Assert.Equal("10.77.0.99 is not default/green's address", strays.Single(l => l.Rule == from).Why);
        Assert.Equal("owner ctr-old is not default/green's live sandbox ctr-a", strays.Single(l => l.Link is not null).Why);
    }

    private static List<Rule> ByPriority(IEnumerable<Rule> rules) => [.. rules.OrderBy(r => r.Priority).ThenBy(r => r.IifName, StringComparer.Ordinal)];

    private static List<Rule> RulesOf(IReadOnlyList<Leftover> plan) => ByPriority(plan.Select(l => l.Rule).OfType<Rule>());
}
