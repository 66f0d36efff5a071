using BranchEni.Cni.Config;
using BranchEni.Cni.Protocol;

namespace BranchEni.Cni.Tests.Config;

public sealed class CniArgsAndEnvironmentTests
{
    [Fact]
    public void KubeletArgsAreRead()
    {
        var args = CniArgs.Parse("IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;K8S_POD_INFRA_CONTAINER_ID=abc;K8S_POD_UID=0f1e2d3c-aaaa-bbbb-cccc-000000000001;X=y");

        Assert.Equal("default", args.PodNamespace);
        Assert.Equal("web-0", args.PodName);
        Assert.Equal("0f1e2d3c-aaaa-bbbb-cccc-000000000001", args.PodUid);
        Assert.True(args.HasPod);
    }

    [Theory]
    [InlineData("K8S_POD_NAMESPACE=default;FOO=bar", "FOO")]
    [InlineData("K8S_POD_NAMESPACE=Default", "K8S_POD_NAMESPACE")]
    [InlineData("K8S_POD_NAME=web_0", "K8S_POD_NAME")]
    [InlineData("K8S_POD_UID=../../etc", "K8S_POD_UID")]
    [InlineData("K8S_POD_NAME=a;K8S_POD_NAME=b", "twice")]
    [InlineData("novalue", "KEY=VALUE")]
    public void BadArgsAreErrorFourNamingTheKey(string text, string named)
    {
        var e = Assert.Throws<CniException>(() => CniArgs.Parse(text));

        Assert.Equal(CniErrorCode.InvalidEnvironment, e.Code);
        Assert.Contains(named, e.Message, StringComparison.Ordinal);
    }

    private static Dictionary<string, string> Env(string command) => new()
    {
        ["CNI_COMMAND"] = command, ["CNI_CONTAINERID"] = "c0ffee", ["CNI_NETNS"] = "/var/run/netns/x",
        ["CNI_IFNAME"] = "eth0", ["CNI_PATH"] = "/opt/cni/bin:/usr/lib/cni",
    };

    [Fact]
    public void EnvironmentIsReadAndPathSplit()
    {
        var env = CniEnvironment.From("ADD", Env("ADD"));

        Assert.Equal("c0ffee", env.ContainerId);
        Assert.Equal(new[] { "/opt/cni/bin", "/usr/lib/cni" }, env.PluginPaths);
    }

    [Theory]
    [InlineData("ADD", "CNI_CONTAINERID", null)]
    [InlineData("ADD", "CNI_CONTAINERID", "-leading")]
    [InlineData("ADD", "CNI_CONTAINERID", "has space")]
    [InlineData("ADD", "CNI_NETNS", null)]
    [InlineData("CHECK", "CNI_NETNS", "relative/path")]
    [InlineData("ADD", "CNI_IFNAME", null)]
    [InlineData("ADD", "CNI_IFNAME", "sixteen-chars-xx")]
    [InlineData("DEL", "CNI_IFNAME", "eth/0")]
    [InlineData("ADD", "CNI_PATH", null)]
    public void BadEnvironmentIsErrorFourNamingTheVariable(string command, string variable, string? value)
    {
        var env = Env(command);
        if (value is null)
        {
            env.Remove(variable);
        }
        else
        {
            env[variable] = value;
        }

        var e = Assert.Throws<CniException>(() => CniEnvironment.From(command, env));

        Assert.Equal(CniErrorCode.InvalidEnvironment, e.Code);
        Assert.Contains(variable, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DelNeedsNoNetns()
    {
        var env = Env("DEL");
        env.Remove("CNI_NETNS");

        Assert.Null(CniEnvironment.From("DEL", env).NetNs);
    }
}
