using System.Text.Json;
using BranchEni.Cni.Branch;
using BranchEni.Cni.Protocol;
using BranchEni.Contracts;

namespace BranchEni.Cni.Tests.Protocol;

public sealed class ResultTests
{
    private static readonly CniResult Sample = new()
    {
        Interfaces =
        [
            new ResultInterface { Name = "vlan0123456789a", Mac = "aa:bb:cc:dd:ee:01" },
            new ResultInterface { Name = "eth0", Mac = "aa:bb:cc:dd:ee:02", Mtu = 9001, Sandbox = "/var/run/netns/p" },
            new ResultInterface { Name = "vlan.eth.7", Mac = "0e:ee:16:bd:41:31" },
        ],
        Ips = [new ResultIp { Address = "192.168.19.148/32", Gateway = "169.254.1.1", Interface = 1 }],
        Routes = [new ResultRoute { Dst = "0.0.0.0/0", Gw = "169.254.1.1" }],
    };

    [Theory]
    [InlineData("0.3.1", true)]
    [InlineData("0.4.0", true)]
    [InlineData("1.0.0", false)]
    [InlineData("1.1.0", false)]
    public void IpsCarryVersionOnlyBeforeOnePointOh(string version, bool carries)
    {
        var json = JsonSerializer.SerializeToElement(Sample.ForVersion(version), CniJsonContext.Default.CniResult);

        Assert.Equal(version, json.GetProperty("cniVersion").GetString());
        var ip = json.GetProperty("ips")[0];
        Assert.Equal(carries, ip.TryGetProperty("version", out var v));
        if (carries)
        {
            Assert.Equal("4", v.GetString());
        }

        Assert.Equal(1, ip.GetProperty("interface").GetInt32());
        Assert.False(json.GetProperty("interfaces")[0].TryGetProperty("sandbox", out _));
    }

    [Fact]
    public void BranchFootprintRoundTripsThroughTheResult()
    {
        var json = JsonSerializer.SerializeToElement(Sample.ForVersion("0.4.0"), CniJsonContext.Default.CniResult);
        var footprint = BranchResult.Read(PrevResultReader.Read(json)!)!;

        Assert.Equal("vlan0123456789a", footprint.HostVeth);
        Assert.Equal("eth0", footprint.PodIfName);
        Assert.Equal(7, footprint.VlanId);
        Assert.Equal(107u, footprint.Table);
        Assert.Equal("192.168.19.148", footprint.PodIp!.ToString());
    }

    [Fact]
    public void ADelegatesResultIsNotABranchFootprint()
    {
        var ptp = """{"cniVersion":"1.0.0","interfaces":[{"name":"veth1","mac":"aa:bb:cc:dd:ee:01"},{"name":"eth0","sandbox":"/x"}],"ips":[{"address":"10.1.2.3/24","interface":1}]}""";

        Assert.Null(BranchResult.Read(PrevResultReader.Read(JsonDocument.Parse(ptp).RootElement)!));
    }

    [Theory]
    [InlineData("""[]""", "prevResult")]
    [InlineData("""{"interfaces":[{"name":"a-name-too-long-x"}]}""", "prevResult.interfaces[0].name")]
    [InlineData("""{"interfaces":[{"name":"eth0","mac":"zz:bb:cc:dd:ee:01"}]}""", "prevResult.interfaces[0].mac")]
    [InlineData("""{"interfaces":[{"name":"eth0","sandbox":"rel"}]}""", "prevResult.interfaces[0].sandbox")]
    [InlineData("""{"ips":[{"address":"10.0.0.1"}]}""", "prevResult.ips[0].address")]
    [InlineData("""{"ips":[{"address":"10.0.0.1/32","gateway":"x"}]}""", "prevResult.ips[0].gateway")]
    [InlineData("""{"interfaces":[{"name":"eth0"}],"ips":[{"address":"10.0.0.1/32","interface":1}]}""", "prevResult.ips[0].interface")]
    [InlineData("""{"ips":"none"}""", "$.ips")]
    public void BadPrevResultIsRefusedNamingTheField(string json, string field)
    {
        var e = Assert.Throws<CniException>(() => PrevResultReader.Read(JsonDocument.Parse(json).RootElement));

        Assert.Contains(field, e.Message, StringComparison.Ordinal);
        Assert.True(e.Code is CniErrorCode.InvalidNetworkConfig or CniErrorCode.DecodeFailure);
    }

    [Fact]
    public void HostVethNameIsPrefixAndElevenHexOfSha1()
    {
        // sha1("default.web-0") = 2c0f5fd6c5...; the name must fit Linux's 15 bytes with the longest prefix.
        var name = BranchLayout.HostVethName("vlan", "default", "web-0");
        var hex = Convert.ToHexStringLower(System.Security.Cryptography.SHA1.HashData("default.web-0"u8.ToArray()))[..11];

        Assert.Equal("vlan" + hex, name);
        Assert.Equal(15, name.Length);
    }

    [Theory]
    [InlineData("vlan.eth.1", 1)]
    [InlineData("vlan.eth.4094", 4094)]
    [InlineData("vlan.eth.0", null)]
    [InlineData("vlan.eth.4095", null)]
    [InlineData("vlan.eth.07", null)]
    [InlineData("vlan.eth.+7", null)]
    [InlineData("eth0", null)]
    public void VlanIdIsReadOnlyFromCanonicalNames(string name, int? id) => Assert.Equal(id, BranchKernelLayout.VlanIdOf(name));
}
