using System.Net;
using System.Net.Sockets;
using BranchEni.Netlink.Tests.Support;

namespace BranchEni.Netlink.Tests.Kernel;

/// <summary>Route verbs in the main table and numbered tables, IPv4 and IPv6, cross-checked with `ip -j route`.</summary>
public sealed class RouteTests : IDisposable
{
    private readonly TestNamespace _ns = new();
    private readonly NetlinkHandle _nl;
    private readonly int _index;

    public RouteTests()
    {
        _nl = _ns.OpenHandle();
        _nl.AddVethPair(new VethPairSpec { Name = "r0", PeerName = "r1" });
        _index = _nl.GetLink("r0").Index;
        _nl.SetLinkUp(_index);
        _nl.SetLinkUp(_nl.GetLink("r1").Index);
        _nl.AddAddress(new InterfaceAddress { LinkIndex = _index, Address = IPAddress.Parse("10.9.0.1"), PrefixLength = 24 });
    }

    public void Dispose()
    {
        _nl.Dispose();
        _ns.Dispose();
    }

    [Fact]
    public void The_branch_table_layout_is_built_and_listed_like_ip_route_shows_it()
    {
        // Table 100+N of DESIGN.md: "<gw>/32 dev vlan.eth.N scope link" and "default via <gw> dev vlan.eth.N".
        var gatewayRoute = new Route { Destination = IPNetwork.Parse("10.9.0.254/32"), OutputIndex = _index, Table = 107 };
        var defaultRoute = new Route
        {
            Destination = IPNetwork.Parse("0.0.0.0/0"), Gateway = IPAddress.Parse("10.9.0.254"), OutputIndex = _index, Table = 107,
        };
        _nl.AddRoute(gatewayRoute);
        _nl.AddRoute(defaultRoute);
        _nl.AddRoute(new Route
        {
            Destination = IPNetwork.Parse("10.77.0.0/16"), Gateway = IPAddress.Parse("10.200.0.1"), OnLink = true,
            OutputIndex = _index, Source = IPAddress.Parse("10.9.0.1"), Protocol = RouteProtocol.Static, Metric = 50, Table = 1000,
        });

        var table107 = _ns.IpJson("route", "show", "table", "107");
        Assert.Contains(table107, r => r.GetProperty("dst").GetString() == "10.9.0.254" && r.GetProperty("scope").GetString() == "link");
        Assert.Contains(table107, r => r.GetProperty("dst").GetString() == "default" && r.GetProperty("gateway").GetString() == "10.9.0.254");
        var full = _ns.IpJson("route", "show", "table", "1000").Single();
        Assert.Equal("10.77.0.0/16", full.GetProperty("dst").GetString());
        Assert.Equal("static", full.GetProperty("protocol").GetString());
        Assert.Equal(50, full.GetProperty("metric").GetInt32());
        Assert.Equal("10.9.0.1", full.GetProperty("prefsrc").GetString());
        Assert.Contains("onlink", full.GetProperty("flags").EnumerateArray().Select(f => f.GetString()));

        var listed = _nl.ListRoutes(AddressFamily.InterNetwork, 107);
        Assert.Equal(2, listed.Count);
        Assert.Contains(listed, r => r.Destination.Equals(IPNetwork.Parse("10.9.0.254/32")) && r.Scope == Scope.Link && r.OutputIndex == _index);
        Assert.Contains(listed, r => r.Destination.PrefixLength == 0 && IPAddress.Parse("10.9.0.254").Equals(r.Gateway) && r.Protocol == RouteProtocol.Boot);
        var fromKernel = _nl.ListRoutes(AddressFamily.InterNetwork, 1000).Single();
        Assert.True(fromKernel.OnLink);
        Assert.Equal((uint)50, fromKernel.Metric);
        Assert.Equal(IPAddress.Parse("10.9.0.1"), fromKernel.Source);
        Assert.Contains(_nl.ListRoutes(AddressFamily.InterNetwork), r => r.Table == RouteTables.Local);

        _nl.DeleteRoute(defaultRoute);
        Assert.False(_nl.DeleteRouteIfExists(defaultRoute));
        Assert.True(_nl.DeleteRouteIfExists(gatewayRoute));
        Assert.Empty(_ns.IpJson("route", "show", "table", "107"));
        Assert.Equal(Errno.ESRCH, Assert.Throws<NetlinkException>(() => _nl.DeleteRoute(defaultRoute)).Errno);
    }

    [Fact]
    public void Replace_creates_then_overwrites_and_add_of_an_existing_route_is_EEXIST()
    {
        var route = new Route { Destination = IPNetwork.Parse("192.168.19.148/32"), OutputIndex = _index, Scope = Scope.Link };
        _nl.ReplaceRoute(route);
        _nl.ReplaceRoute(route with { Metric = null, Source = IPAddress.Parse("10.9.0.1") });
        var shown = _ns.IpJson("route", "show", "192.168.19.148/32").Single();
        Assert.Equal("10.9.0.1", shown.GetProperty("prefsrc").GetString());
        Assert.Equal(Errno.EEXIST, Assert.Throws<NetlinkException>(() => _nl.AddRoute(route)).Errno);
        Assert.Equal(Errno.ENODEV, Assert.Throws<NetlinkException>(() => _nl.AddRoute(route with { OutputIndex = 4242 })).Errno);
    }

    [Fact]
    public void Ipv6_routes_with_a_link_local_gateway_are_added_listed_and_deleted()
    {
        var route = new Route
        {
            Destination = IPNetwork.Parse("2001:db8:2::/48"), Gateway = IPAddress.Parse("fe80::1"), OutputIndex = _index, Table = 107,
        };
        _nl.AddRoute(route);
        var shown = _ns.IpJson("-6", "route", "show", "table", "107").Single();
        Assert.Equal("2001:db8:2::/48", shown.GetProperty("dst").GetString());
        Assert.Equal("fe80::1", shown.GetProperty("gateway").GetString());
        var listed = _nl.ListRoutes(AddressFamily.InterNetworkV6, 107).Single();
        Assert.Equal(IPAddress.Parse("fe80::1"), listed.Gateway);
        _nl.DeleteRoute(route);
        Assert.Empty(_ns.IpJson("-6", "route", "show", "table", "107"));
    }

    [Fact]
    public void An_unreachable_route_has_no_device_and_makes_lookups_fail_until_deleted()
    {
        // A branch pod denied the metadata service: `unreachable 169.254.169.254/32 table 107`.
        var route = new Route { Destination = IPNetwork.Parse("169.254.169.254/32"), Type = RouteType.Unreachable, Table = 107 };
        _nl.AddRoute(route);

        var shown = _ns.IpJson("route", "show", "table", "107").Single();
        Assert.Equal("unreachable", shown.GetProperty("type").GetString());
        Assert.Equal("169.254.169.254", shown.GetProperty("dst").GetString());
        var listed = _nl.ListRoutes(AddressFamily.InterNetwork, 107).Single();
        Assert.Equal(RouteType.Unreachable, listed.Type);
        Assert.Null(listed.OutputIndex);
        Assert.Equal(Scope.Universe, listed.Scope);
        _nl.AddRule(new Rule { Priority = 5, To = IPNetwork.Parse("169.254.169.254/32"), Table = 107 });
        var lookup = Assert.Throws<InvalidOperationException>(() => _ns.Ip("route", "get", "169.254.169.254"));
        Assert.Contains("No route to host", lookup.Message, StringComparison.Ordinal);

        Assert.True(_nl.DeleteRouteIfExists(route));
        Assert.False(_nl.DeleteRouteIfExists(route));
        Assert.Empty(_ns.IpJson("route", "show", "table", "107"));
    }
}
