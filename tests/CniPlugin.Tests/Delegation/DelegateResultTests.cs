using System.Text;
using BranchEni.Cni.Delegation;
using BranchEni.Cni.Protocol;

namespace BranchEni.Cni.Tests.Delegation;

/// <summary>A delegate's output is judged as its own failure (code 14), never crashes the plugin.</summary>
public sealed class DelegateResultTests
{
    [Theory]
    [InlineData("""{"cniVersion":"1.0.0","ips":[null]}""")]
    [InlineData("""{"cniVersion":"1.0.0","interfaces":[null]}""")]
    [InlineData("""{"cniVersion":"1.0.0","routes":[null]}""")]
    [InlineData("""{"cniVersion":"1.0.0","ips":"none"}""")]
    [InlineData("""null""")]
    public void ADelegatesBrokenResultIsItsFailureNotOurs(string output)
    {
        var e = Assert.Throws<CniException>(() => DelegatePlugin.Reshape(Encoding.UTF8.GetBytes(output), "0.4.0"));

        Assert.Equal(CniErrorCode.DelegateFailure, e.Code);
    }

    [Fact]
    public void ADelegatesResultIsReshapedToOurVersion()
    {
        var result = DelegatePlugin.Reshape(
            """{"cniVersion":"1.0.0","interfaces":[{"name":"eth0"}],"ips":[{"address":"10.88.0.5/24","interface":0}],"dns":{}}"""u8.ToArray(), "0.4.0");

        Assert.Equal("0.4.0", result.CniVersion);
        Assert.Equal("4", Assert.Single(result.Ips!).Version);
    }
}
