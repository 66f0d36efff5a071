using System.Text;
using BranchEni.Cni.Config;
using BranchEni.Cni.Protocol;
using BranchEni.Contracts;

namespace BranchEni.Cni.Tests.Config;

public sealed class PluginConfigTests
{
    private static PluginConfig Parse(string json) => PluginConfig.Parse(Encoding.UTF8.GetBytes(json));

    [Fact]
    public void MinimalConfigGetsEveryDocumentedDefault()
    {
        var config = Parse("""{"cniVersion":"1.0.0","name":"pods","type":"branch-eni"}""");

        Assert.Null(config.Kubeconfig);
        Assert.Equal("/run/branch-eni", config.StateDir);
        Assert.Null(config.TrunkInterface);
        Assert.Equal(EnforcingMode.Strict, config.EnforcingMode);
        Assert.Equal(9001, config.Mtu);
        Assert.Equal("vlan", config.VethPrefix);
        Assert.Equal(10, config.AnnotationWaitSeconds);
        Assert.Equal("/var/log/branch-eni/plugin.log", config.LogFile);
        Assert.Equal("info", config.LogLevel);
        Assert.Null(config.Delegate);
        Assert.Null(config.ValidContainerIds);
    }

    [Fact]
    public void EveryFieldIsReadUnderItsContractName()
    {
        var config = Parse("""
            {"cniVersion":"1.1.0","name":"pods","type":"branch-eni","kubeconfig":"/etc/k/kc","stateDir":"/var/run/be",
             "trunkInterface":"ens6","enforcingMode":"standard","mtu":1500,"vethPrefix":"eni","annotationWaitSeconds":3,
             "defaultPodMetadataAccess":"Denied","logFile":"/var/log/x.log","logLevel":"debug","delegate":{"type":"ptp","ipam":{"type":"host-local"}},
             "cni.dev/valid-attachments":[{"containerID":"a","ifname":"eth0"}],"cni.dev/attachments":[{"containerID":"b"}]}
            """);

        Assert.Equal("/etc/k/kc", config.Kubeconfig);
        Assert.Equal("/var/run/be", config.StateDir);
        Assert.Equal("ens6", config.TrunkInterface);
        Assert.Equal(EnforcingMode.Standard, config.EnforcingMode);
        Assert.Equal(1500, config.Mtu);
        Assert.Equal("eni", config.VethPrefix);
        Assert.Equal(3, config.AnnotationWaitSeconds);
        Assert.Equal(BranchEni.Policy.MetadataAccess.Denied, config.DefaultPodMetadataAccess);
        Assert.Equal("/var/log/x.log", config.LogFile);
        Assert.Equal("debug", config.LogLevel);
        Assert.Equal("ptp", config.Delegate!.Value.GetProperty("type").GetString());
        Assert.Equal(new[] { "a", "b" }, config.ValidContainerIds!.Order());
    }

    [Theory]
    [InlineData("""{"cniVersion":"0.2.0","name":"n","type":"branch-eni"}""", 1, "cniVersion")]
    [InlineData("""{"name":"n","type":"branch-eni"}""", 7, "cniVersion")]
    [InlineData("""{"cniVersion":"1.0.0","type":"branch-eni"}""", 7, "name")]
    [InlineData("""{"cniVersion":"1.0.0","name":"n","type":"ptp"}""", 7, "type")]
    [InlineData("""{"cniVersion":"1.0.0","name":"n","type":"branch-eni","mtu":"9001"}""", 6, "$.mtu")]
    [InlineData("""{"cniVersion":"1.0.0","name":"n","type":"branch-eni","mtu":100}""", 7, "mtu")]
    [InlineData("""{"cniVersion":"1.0.0","name":"n","type":"branch-eni","enforcingMode":"Strict"}""", 7, "enforcingMode")]
    [InlineData("""{"cniVersion":"1.0.0","name":"n","type":"branch-eni","vethPrefix":"toolong"}""", 7, "vethPrefix")]
    [InlineData("""{"cniVersion":"1.0.0","name":"n","type":"branch-eni","trunkInterface":"a-very-long-name0"}""", 7, "trunkInterface")]
    [InlineData("""{"cniVersion":"1.0.0","name":"n","type":"branch-eni","stateDir":"run/be"}""", 7, "stateDir")]
    [InlineData("""{"cniVersion":"1.0.0","name":"n","type":"branch-eni","delegate":{"ipam":{}}}""", 7, "delegate.type")]
    [InlineData("""{"cniVersion":"1.0.0","name":"n","type":"branch-eni","delegate":{"type":"../bin/sh"}}""", 7, "delegate.type")]
    [InlineData("""{"cniVersion":"1.0.0","name":"n","type":"branch-eni","annotationWaitSeconds":-1}""", 7, "annotationWaitSeconds")]
    [InlineData("""{"cniVersion":"1.0.0","name":"n","type":"branch-eni","logLevel":"loud"}""", 7, "logLevel")]
    [InlineData("""{"cniVersion":"1.0.0","name":"n","type":"branch-eni","defaultPodMetadataAccess":"denied"}""", 7, "defaultPodMetadataAccess")]
    [InlineData("""{"cniVersion":"1.0.0","name":"n","type":"branch-eni","kubeconfig":"../kc"}""", 7, "kubeconfig")]
    public void BadFieldIsRefusedWithItsCodeAndName(string json, int code, string field)
    {
        var e = Assert.Throws<CniException>(() => Parse(json));

        Assert.Equal(code, (int)e.Code);
        Assert.Contains(field, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FieldNamesAreCaseSensitive()
    {
        var config = Parse("""{"cniVersion":"1.0.0","name":"n","type":"branch-eni","MTU":1500,"EnforcingMode":"standard"}""");

        Assert.Equal(9001, config.Mtu);
        Assert.Equal(EnforcingMode.Strict, config.EnforcingMode);
    }
}
