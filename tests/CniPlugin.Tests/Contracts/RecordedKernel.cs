using System.Net.NetworkInformation;
using BranchEni.Contracts;
using BranchEni.Netlink;

namespace BranchEni.Cni.Tests.Contracts;

/// <summary>A node's kernel as records, as NodeSnapshot holds one read from netlink.</summary>
internal sealed class RecordedKernel : IHostKernel
{
    private const string Veth = "vlan0123456789a";

    public List<Link> Links { get; } = [];

    IReadOnlyList<Link> IHostKernel.Links => Links;

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

    public static RecordedKernel Of(BranchPlumbing model)
    {
        var kernel = new RecordedKernel();
        kernel.Links.Add(new Link { Index = 2, Name = "trunk0", Flags = LinkFlags.Up });
        kernel.Links.Add(new Link { Index = 3, Name = "eth9", Flags = LinkFlags.Up });
        return kernel.With(model, 10);
    }

    /// <summary>Adds a pod wired as the model says: its host veth at <paramref name="index"/>, its VLAN link next.</summary>
    public RecordedKernel With(BranchPlumbing model, int index)
    {
        Links.Add(new Link
        {
            Index = index, Name = model.HostVeth, Kind = "veth", Flags = LinkFlags.Up, Alias = model.ContainerId, Mtu = 9001,
            Mac = PhysicalAddress.Parse("02:00:00:00:00:0a"),
        });
        Links.Add(new Link
        {
            Index = index + 1, Name = model.VlanLink, Kind = "vlan", VlanId = model.VlanId, ParentIndex = 2, Flags = LinkFlags.Up,
            Alias = model.ContainerId, Mac = model.BranchMac,
        });
        Routes.AddRange(model.HostRoutes.Select(r => r.Bind(Link(r.Device)?.Index) with { Table = r.Shape.Table ?? RouteTables.Main }));
        RuleList.AddRange(model.Rules);
        return this;
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
