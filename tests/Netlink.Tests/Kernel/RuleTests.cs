using System.Net;
using System.Net.Sockets;
using BranchEni.Netlink.Tests.Support;

namespace BranchEni.Netlink.Tests.Kernel;

/// <summary>Rule verbs with every selector, IPv4 and IPv6, cross-checked with `ip -j rule show`.</summary>
public sealed class RuleTests : IDisposable
{
    private readonly TestNamespace _ns = new();
    private readonly NetlinkHandle _nl;

    public RuleTests() => _nl = _ns.OpenHandle();

    public void Dispose()
    {
        _nl.Dispose();
        _ns.Dispose();
    }

    [Fact]
    public void Strict_and_standard_mode_rules_are_added_listed_and_deleted()
    {
        var iif = new Rule { Priority = 10, IifName = "vlan.eth.7", Table = 107 };
        var from = new Rule { Priority = 1536, From = IPNetwork.Parse("192.168.19.148/32"), Table = 107 };
        var toMain = new Rule { Priority = 512, To = IPNetwork.Parse("192.168.19.148/32"), Table = RouteTables.Main };
        var full = new Rule
        {
            Priority = 77, OifName = "eth0", From = IPNetwork.Parse("10.0.0.0/8"), To = IPNetwork.Parse("10.1.0.0/16"),
            FwMark = 0x10, FwMask = 0xff, Table = 1000,
        };
        foreach (var rule in new[] { iif, from, toMain, full })
        {
            _nl.AddRule(rule);
        }

        var shown = _ns.IpJson("rule", "show");
        Assert.Contains(shown, r => r.GetProperty("priority").GetInt32() == 10 && r.GetProperty("iif").GetString() == "vlan.eth.7"
            && r.GetProperty("table").GetString() == "107");
        Assert.Contains(shown, r => r.GetProperty("priority").GetInt32() == 1536 && r.GetProperty("src").GetString() == "192.168.19.148");
        Assert.Contains(shown, r => r.GetProperty("priority").GetInt32() == 512 && r.GetProperty("dst").GetString() == "192.168.19.148"
            && r.GetProperty("table").GetString() == "main");
        var shownFull = shown.Single(r => r.GetProperty("priority").GetInt32() == 77);
        Assert.Equal("eth0", shownFull.GetProperty("oif").GetString());
        Assert.Equal(8, shownFull.GetProperty("srclen").GetInt32());
        Assert.Equal("0x10", shownFull.GetProperty("fwmark").GetString());
        Assert.Equal("0xff", shownFull.GetProperty("fwmask").GetString());
        Assert.Equal("1000", shownFull.GetProperty("table").GetString());

        var listed = _nl.ListRules(AddressFamily.InterNetwork);
        Assert.Contains(iif with { Action = RuleAction.ToTable }, listed);
        Assert.Contains(from, listed);
        Assert.Contains(toMain, listed);
        Assert.Contains(full, listed);
        Assert.Contains(listed, r => r.Priority == 0 && r.Table == RouteTables.Local && r.IifName is null && r.From is null);

        Assert.Equal(Errno.EEXIST, Assert.Throws<NetlinkException>(() => _nl.AddRule(iif)).Errno);
        _nl.DeleteRule(iif);
        Assert.False(_nl.DeleteRuleIfExists(iif));
        Assert.True(_nl.DeleteRuleIfExists(from));
        var missing = Assert.Throws<NetlinkException>(() => _nl.DeleteRule(from));
        Assert.Equal(Errno.ENOENT, missing.Errno);
        Assert.Equal("ip rule del priority 1536 from 192.168.19.148/32 table 107", missing.Operation);
        Assert.DoesNotContain(_ns.IpJson("rule", "show"), r => r.GetProperty("priority").GetInt32() is 10 or 1536);
    }

    [Fact]
    public void Ipv6_rules_use_their_own_family_and_mismatched_families_are_refused()
    {
        var rule = new Rule { Family = AddressFamily.InterNetworkV6, Priority = 20, From = IPNetwork.Parse("2001:db8::/64"), Table = 300 };
        _nl.AddRule(rule);
        var shown = _ns.IpJson("-6", "rule", "show").Single(r => r.GetProperty("priority").GetInt32() == 20);
        Assert.Equal("2001:db8::", shown.GetProperty("src").GetString());
        Assert.Equal("300", shown.GetProperty("table").GetString());
        Assert.Contains(rule, _nl.ListRules(AddressFamily.InterNetworkV6));
        Assert.DoesNotContain(_nl.ListRules(AddressFamily.InterNetwork), r => r.Priority == 20);

        Assert.Throws<ArgumentException>(() => _nl.AddRule(rule with { Family = AddressFamily.InterNetwork }));
        _nl.DeleteRule(rule);
        Assert.DoesNotContain(_ns.IpJson("-6", "rule", "show"), r => r.GetProperty("priority").GetInt32() == 20);
    }

    [Fact]
    public void Moving_the_local_rule_from_priority_0_to_20_works_as_the_agent_does_it()
    {
        _nl.AddRule(new Rule { Priority = 20, Table = RouteTables.Local });
        _nl.DeleteRule(new Rule { Priority = 0, Table = RouteTables.Local });
        var local = _ns.IpJson("rule", "show").Where(r => r.GetProperty("table").GetString() == "local")
            .Select(r => r.GetProperty("priority").GetInt32()).ToArray();
        Assert.Equal([20], local);
    }
}
