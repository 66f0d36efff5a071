using System.Net.NetworkInformation;
using BranchEni.Netlink.Tests.Support;

namespace BranchEni.Netlink.Tests.Kernel;

/// <summary>Link verbs against the host kernel in throwaway namespaces, cross-checked with `ip -j -d link`.</summary>
public sealed class LinkTests : IDisposable
{
    private readonly TestNamespace _a = new();
    private readonly TestNamespace _b = new();

    public void Dispose()
    {
        _a.Dispose();
        _b.Dispose();
    }

    [Fact]
    public void Veth_pair_is_created_with_names_mtu_and_macs_and_the_peer_directly_in_another_namespace()
    {
        using var nl = _a.OpenHandle();
        nl.AddVethPair(new VethPairSpec
        {
            Name = "host0",
            PeerName = "eth0",
            Mtu = 1400,
            Mac = PhysicalAddress.Parse("02-00-00-00-10-01"),
            PeerMac = PhysicalAddress.Parse("02-00-00-00-10-02"),
            PeerNamespace = _b.Namespace,
        });

        var host = _a.IpJson("-d", "link", "show", "dev", "host0").Single();
        Assert.Equal(1400, host.GetProperty("mtu").GetInt32());
        Assert.Equal("02:00:00:00:10:01", host.GetProperty("address").GetString());
        Assert.Equal("veth", host.GetProperty("linkinfo").GetProperty("info_kind").GetString());
        var peer = _b.IpJson("-d", "link", "show", "dev", "eth0").Single();
        Assert.Equal(1400, peer.GetProperty("mtu").GetInt32());
        Assert.Equal("02:00:00:00:10:02", peer.GetProperty("address").GetString());
        Assert.DoesNotContain(_a.IpJson("link", "show"), l => l.GetProperty("ifname").GetString() == "eth0");

        var link = nl.GetLink("host0");
        Assert.Equal(host.GetProperty("ifindex").GetInt32(), link.Index);
        Assert.Equal("veth", link.Kind);
        Assert.Equal(1400, link.Mtu);
        Assert.Equal(PhysicalAddress.Parse("02-00-00-00-10-01"), link.Mac);
        Assert.False(link.IsUp);
        Assert.Equal(link, nl.GetLink(link.Index));
        Assert.Equal(peer.GetProperty("ifindex").GetInt32(), link.ParentIndex);
    }

    [Fact]
    public void Set_up_down_mtu_mac_name_and_alias_show_in_ip_link()
    {
        using var nl = _a.OpenHandle();
        nl.AddVethPair(new VethPairSpec { Name = "s0", PeerName = "s1" });
        var index = nl.GetLink("s0").Index;

        nl.SetLinkMtu(index, 1280);
        nl.SetLinkMac(index, PhysicalAddress.Parse("02-AB-00-00-00-07"));
        nl.SetLinkAlias(index, "owner:container-1234");
        nl.SetLinkName(index, "renamed.7");
        nl.SetLinkUp(index);

        var shown = _a.IpJson("-d", "link", "show", "dev", "renamed.7").Single();
        Assert.Equal(index, shown.GetProperty("ifindex").GetInt32());
        Assert.Equal(1280, shown.GetProperty("mtu").GetInt32());
        Assert.Equal("02:ab:00:00:00:07", shown.GetProperty("address").GetString());
        Assert.Equal("owner:container-1234", shown.GetProperty("ifalias").GetString());
        Assert.Contains("UP", shown.GetProperty("flags").EnumerateArray().Select(f => f.GetString()));

        var link = nl.GetLink("renamed.7");
        Assert.True(link.IsUp);
        Assert.Equal("owner:container-1234", link.Alias);
        Assert.Null(nl.TryGetLink("s0"));

        nl.SetLinkDown(index);
        nl.SetLinkAlias(index, "");
        Assert.DoesNotContain("UP", _a.IpJson("link", "show", "dev", "renamed.7").Single()
            .GetProperty("flags").EnumerateArray().Select(f => f.GetString()));
        Assert.False(nl.GetLink(index).IsUp);
        Assert.Null(nl.GetLink(index).Alias);
    }

    [Fact]
    public void Set_namespace_moves_the_link()
    {
        using var nl = _a.OpenHandle();
        nl.AddVethPair(new VethPairSpec { Name = "mv0", PeerName = "mv1" });
        nl.SetLinkNamespace(nl.GetLink("mv0").Index, _b.Namespace);

        Assert.Null(nl.TryGetLink("mv0"));
        Assert.Single(_b.IpJson("link", "show", "dev", "mv0"));
        using var inB = _b.OpenHandle();
        Assert.Equal("veth", inB.GetLink("mv0").Kind);
    }

    [Fact]
    public void List_links_matches_ip_link_show_and_find_by_mac_finds_one()
    {
        using var nl = _a.OpenHandle();
        nl.AddVethPair(new VethPairSpec { Name = "l0", PeerName = "l1", Mac = PhysicalAddress.Parse("02-00-00-00-77-01") });

        var expected = _a.IpJson("link", "show")
            .Select(l => (l.GetProperty("ifindex").GetInt32(), l.GetProperty("ifname").GetString()!)).Order().ToArray();
        var actual = nl.ListLinks().Select(l => (l.Index, l.Name)).Order().ToArray();
        Assert.Equal(expected, actual);
        Assert.Equal("l0", nl.FindLinkByMac(PhysicalAddress.Parse("02-00-00-00-77-01"))?.Name);
        Assert.Null(nl.FindLinkByMac(PhysicalAddress.Parse("02-00-00-00-77-99")));
        Assert.Equal(LinkFlags.Loopback, nl.GetLink("lo").Flags & LinkFlags.Loopback);
    }

    [Fact]
    public void Delete_link_removes_it_and_delete_if_exists_reports_absence()
    {
        using var nl = _a.OpenHandle();
        nl.AddVethPair(new VethPairSpec { Name = "d0", PeerName = "d1" });
        nl.AddVethPair(new VethPairSpec { Name = "e0", PeerName = "e1" });

        nl.DeleteLink("d0");
        nl.DeleteLink(nl.GetLink("e0").Index);
        Assert.DoesNotContain(_a.IpJson("link", "show"), l => l.GetProperty("ifname").GetString() is "d0" or "e0");

        Assert.False(nl.DeleteLinkIfExists("d0"));
        Assert.False(nl.DeleteLinkIfExists(4242));
        nl.AddVethPair(new VethPairSpec { Name = "f0", PeerName = "f1" });
        Assert.True(nl.DeleteLinkIfExists("f0"));
        var missing = Assert.Throws<NetlinkException>(() => nl.DeleteLink("d0"));
        Assert.Equal(Errno.ENODEV, missing.Errno);
        Assert.Equal("ip link del dev d0", missing.Operation);
    }

    [Fact]
    public void Refusals_carry_errno_operation_and_the_kernels_text()
    {
        using var nl = _a.OpenHandle();
        nl.AddVethPair(new VethPairSpec { Name = "x0", PeerName = "x1" });

        var exists = Assert.Throws<NetlinkException>(() => nl.AddVethPair(new VethPairSpec { Name = "x0", PeerName = "x2" }));
        Assert.Equal(Errno.EEXIST, exists.Errno);
        Assert.Equal("ip link add x0 type veth peer name x2", exists.Operation);

        var noDevice = Assert.Throws<NetlinkException>(() => nl.GetLink("nope"));
        Assert.Equal(Errno.ENODEV, noDevice.Errno);
        Assert.Null(nl.TryGetLink(4242));
        Assert.Equal(Errno.ENODEV, Assert.Throws<NetlinkException>(() => nl.SetLinkUp(4242)).Errno);

        // The kernel explains this one in words through extended ack ("Nexthop has invalid gateway").
        var unreachable = Assert.Throws<NetlinkException>(() => nl.AddRoute(new Route
        {
            Destination = System.Net.IPNetwork.Parse("10.0.0.0/8"),
            Gateway = System.Net.IPAddress.Parse("192.0.2.1"),
        }));
        Assert.Equal(Errno.ENETUNREACH, unreachable.Errno);
        Assert.Equal("ip route add 10.0.0.0/8 via 192.0.2.1 table 254", unreachable.Operation);
        Assert.False(string.IsNullOrEmpty(unreachable.ExtendedAck));
        Assert.Contains(unreachable.ExtendedAck!, unreachable.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_names_and_vlan_ids_are_refused_before_the_kernel_and_change_nothing()
    {
        using var nl = _a.OpenHandle();
        var before = nl.ListLinks().Count;
        Assert.Throws<ArgumentException>(() => nl.AddVethPair(new VethPairSpec { Name = "sixteen-chars-xx", PeerName = "p" }));
        Assert.Throws<ArgumentException>(() => nl.AddVethPair(new VethPairSpec { Name = "a/b", PeerName = "p" }));
        Assert.Throws<ArgumentOutOfRangeException>(() => nl.AddVlan(new VlanSpec { Name = "v", ParentIndex = 1, VlanId = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => nl.AddVlan(new VlanSpec { Name = "v", ParentIndex = 1, VlanId = 4095 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => nl.SetLinkMtu(1, 0));
        Assert.Equal(before, nl.ListLinks().Count);
    }
}
