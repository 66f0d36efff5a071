using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using BranchEni.Netlink.Tests.Support;

namespace BranchEni.Netlink.Tests.Kernel;

/// <summary>Neighbour verbs, IPv4 and IPv6, cross-checked with `ip -j neigh show`.</summary>
public sealed class NeighbourTests : IDisposable
{
    private readonly TestNamespace _ns = new();
    private readonly NetlinkHandle _nl;
    private readonly int _index;

    public NeighbourTests()
    {
        _nl = _ns.OpenHandle();
        _nl.AddVethPair(new VethPairSpec { Name = "n0", PeerName = "n1" });
        _index = _nl.GetLink("n0").Index;
        _nl.SetLinkUp(_index);
    }

    public void Dispose()
    {
        _nl.Dispose();
        _ns.Dispose();
    }

    [Fact]
    public void Permanent_neighbours_are_added_replaced_listed_and_deleted()
    {
        var gateway = new Neighbour { LinkIndex = _index, Address = IPAddress.Parse("169.254.1.1"), Mac = PhysicalAddress.Parse("02-00-00-00-00-01") };
        var v6 = new Neighbour { LinkIndex = _index, Address = IPAddress.Parse("2001:db8::9"), Mac = PhysicalAddress.Parse("02-00-00-00-00-09") };
        _nl.AddNeighbour(gateway);
        _nl.ReplaceNeighbour(v6);
        _nl.ReplaceNeighbour(gateway with { Mac = PhysicalAddress.Parse("02-00-00-00-00-02") });

        var shown = _ns.IpJson("neigh", "show", "dev", "n0");
        var shown4 = shown.Single(n => n.GetProperty("dst").GetString() == "169.254.1.1");
        Assert.Equal("02:00:00:00:00:02", shown4.GetProperty("lladdr").GetString());
        Assert.Contains("PERMANENT", shown4.GetProperty("state").EnumerateArray().Select(s => s.GetString()));
        Assert.Contains(shown, n => n.GetProperty("dst").GetString() == "2001:db8::9");

        var listed = _nl.ListNeighbours(_index);
        Assert.Contains(gateway with { Mac = PhysicalAddress.Parse("02-00-00-00-00-02") }, listed);
        Assert.Contains(v6, listed);
        Assert.Equal([v6], _nl.ListNeighbours(_index, AddressFamily.InterNetworkV6));

        Assert.Equal(Errno.EEXIST, Assert.Throws<NetlinkException>(() => _nl.AddNeighbour(gateway)).Errno);
        _nl.DeleteNeighbour(_index, gateway.Address);
        _nl.DeleteNeighbour(_index, v6.Address);
        Assert.Empty(_ns.IpJson("neigh", "show", "dev", "n0"));
        var missing = Assert.Throws<NetlinkException>(() => _nl.DeleteNeighbour(_index, gateway.Address));
        Assert.Equal(Errno.ENOENT, missing.Errno);
        Assert.Equal($"ip neigh del 169.254.1.1 dev {_index}", missing.Operation);
    }
}
