using System.Net;
using System.Net.Sockets;
using BranchEni.Netlink.Tests.Support;

namespace BranchEni.Netlink.Tests.Kernel;

/// <summary>Address verbs, IPv4 and IPv6, cross-checked with `ip -j addr show`.</summary>
public sealed class AddressTests : IDisposable
{
    private readonly TestNamespace _ns = new();
    private readonly NetlinkHandle _nl;
    private readonly int _index;

    public AddressTests()
    {
        _nl = _ns.OpenHandle();
        _nl.AddVethPair(new VethPairSpec { Name = "a0", PeerName = "a1" });
        _index = _nl.GetLink("a0").Index;
        _nl.SetLinkUp(_index);
    }

    public void Dispose()
    {
        _nl.Dispose();
        _ns.Dispose();
    }

    [Fact]
    public void Ipv4_and_ipv6_addresses_are_added_listed_and_deleted()
    {
        var v4 = new InterfaceAddress { LinkIndex = _index, Address = IPAddress.Parse("192.168.19.148"), PrefixLength = 32 };
        var v6 = new InterfaceAddress
        {
            LinkIndex = _index, Address = IPAddress.Parse("2001:db8::148"), PrefixLength = 64, NoDad = true,
        };
        var linkScoped = new InterfaceAddress
        {
            LinkIndex = _index, Address = IPAddress.Parse("169.254.7.7"), PrefixLength = 16, Scope = Scope.Link,
        };
        _nl.AddAddress(v4);
        _nl.AddAddress(v6);
        _nl.AddAddress(linkScoped);

        var shown = _ns.IpJson("addr", "show", "dev", "a0").Single().GetProperty("addr_info").EnumerateArray()
            .Select(a => (a.GetProperty("local").GetString(), a.GetProperty("prefixlen").GetInt32(), a.GetProperty("scope").GetString()))
            .ToArray();
        Assert.Contains(("192.168.19.148", 32, "global"), shown);
        Assert.Contains(("2001:db8::148", 64, "global"), shown);
        Assert.Contains(("169.254.7.7", 16, "link"), shown);

        var listed = _nl.ListAddresses(_index);
        Assert.Contains(v4, listed);
        Assert.Contains(linkScoped, listed);
        Assert.Contains(listed, a => a.Address.Equals(v6.Address) && a.PrefixLength == 64 && a.NoDad);
        Assert.All(_nl.ListAddresses(_index, AddressFamily.InterNetworkV6), a => Assert.Equal(AddressFamily.InterNetworkV6, a.Address.AddressFamily));
        Assert.Contains(_nl.ListAddresses(), a => a.Address.Equals(IPAddress.Loopback));

        _nl.DeleteAddress(v4);
        _nl.DeleteAddress(v6);
        var remaining = _ns.IpJson("addr", "show", "dev", "a0").Single().GetProperty("addr_info").EnumerateArray()
            .Select(a => a.GetProperty("local").GetString()).ToArray();
        Assert.DoesNotContain("192.168.19.148", remaining);
        Assert.DoesNotContain("2001:db8::148", remaining);
        Assert.Contains("169.254.7.7", remaining);
    }

    [Fact]
    public void Adding_twice_is_EEXIST_and_deleting_a_missing_address_is_EADDRNOTAVAIL()
    {
        var address = new InterfaceAddress { LinkIndex = _index, Address = IPAddress.Parse("10.5.5.5"), PrefixLength = 24 };
        _nl.AddAddress(address);
        var twice = Assert.Throws<NetlinkException>(() => _nl.AddAddress(address));
        Assert.Equal(Errno.EEXIST, twice.Errno);
        Assert.Equal($"ip addr add 10.5.5.5/24 dev {_index}", twice.Operation);

        _nl.DeleteAddress(address);
        Assert.Equal(Errno.EADDRNOTAVAIL, Assert.Throws<NetlinkException>(() => _nl.DeleteAddress(address)).Errno);
        Assert.Equal(Errno.ENODEV, Assert.Throws<NetlinkException>(() => _nl.AddAddress(address with { LinkIndex = 4242 })).Errno);
        Assert.Throws<ArgumentOutOfRangeException>(() => _nl.AddAddress(address with { PrefixLength = 33 }));
    }
}
