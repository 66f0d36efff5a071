using System.Text.Json;

namespace BranchEni.Cni.Tests.Delegation;

/// <summary>
/// Pods without a branch ENI go to `delegate` (Debian's ptp + host-local here) with our environment; the published
/// binary runs in a throwaway node namespace and the pod in another, for every spec version.
/// </summary>
public sealed class DelegationTests
{
    private static string Config(string version, string dataDir, string logFile, int third)
    {
        // ptp speaks up to 1.0.0: a 1.1.0 network names the delegate's version, older ones let it inherit ours.
        var delegateVersion = version == "1.1.0" ? "\"cniVersion\":\"1.0.0\"," : "";
        return "{\"cniVersion\":\"" + version + "\",\"name\":\"pods\",\"type\":\"branch-eni\",\"stateDir\":\"" + dataDir
            + "/state\",\"logFile\":\"" + logFile + "\",\"logLevel\":\"debug\",\"delegate\":{" + delegateVersion
            + "\"type\":\"ptp\",\"ipMasq\":false,\"ipam\":{\"type\":\"host-local\",\"subnet\":\"10.213." + third + ".0/24\",\"dataDir\":\""
            + dataDir + "/ipam\"}}}";
    }

    [Theory]
    [InlineData("0.3.1", 57)]
    [InlineData("0.4.0", 58)]
    [InlineData("1.0.0", 59)]
    [InlineData("1.1.0", 60)]
    public void DelegatedPodGetsPtpNetworkingAndAddCheckDelDelLeaveNothing(string version, int third)
    {
        using var ns = new TestNamespaces("dg");
        var pod = ns.Add($"pod-{ns.Suffix}");
        var dataDir = $"/tmp/branch-eni-test-{ns.Suffix}";
        var logFile = $"{dataDir}/plugin.log";
        var config = Config(version, dataDir, logFile, third);
        var before = TestNamespaces.Snapshot(ns.Node);
        var podBefore = TestNamespaces.Snapshot(pod);
        const string args = "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=plain;K8S_POD_UID=1234abcd-0000-0000-0000-000000000001";
        try
        {
            var add = PluginProcess.Run(ns.Node, "ADD", config, "ctr1", TestNamespaces.PathOf(pod), args).EnsureSuccess();
            var result = add.Json;
            Assert.Equal(version, result.GetProperty("cniVersion").GetString());
            var ip = result.GetProperty("ips")[0];
            Assert.Equal(version.StartsWith("0.", StringComparison.Ordinal), ip.TryGetProperty("version", out _));
            var address = ip.GetProperty("address").GetString()!;
            Assert.StartsWith($"10.213.{third}.", address, StringComparison.Ordinal);
            var podIp = address.Split('/')[0];
            Assert.Contains(podIp, Shell.Run($"ip -n {pod} -4 addr show dev eth0"), StringComparison.Ordinal);
            Shell.Run($"ip netns exec {ns.Node} ping -c 1 -W 2 {podIp}");

            var prev = PluginProcess.With(config, "prevResult", add.Stdout);
            var check = PluginProcess.Run(ns.Node, "CHECK", prev, "ctr1", TestNamespaces.PathOf(pod), args);
            if (version == "0.3.1")
            {
                Assert.Equal(1, check.ErrorCode);
            }
            else
            {
                check.EnsureSuccess();
            }

            PluginProcess.Run(ns.Node, "DEL", prev, "ctr1", TestNamespaces.PathOf(pod), args).EnsureSuccess();
            PluginProcess.Run(ns.Node, "DEL", prev, "ctr1", TestNamespaces.PathOf(pod), args).EnsureSuccess();

            Assert.Equal(before, TestNamespaces.Snapshot(ns.Node));
            Assert.Equal(podBefore, TestNamespaces.Snapshot(pod));
            Assert.Empty(Directory.EnumerateFiles($"{dataDir}/ipam", "10.*", SearchOption.AllDirectories));
            var log = File.ReadAllLines(logFile);
            Assert.Contains(log, line => line.Contains("delegating to {Delegate}", StringComparison.Ordinal) && JsonDocument.Parse(line).RootElement.GetProperty("Delegate").GetString() == "ptp");
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
    }

    [Fact]
    public void DelegateErrorsComeBackAsOursWithTheDelegatesCode()
    {
        using var ns = new TestNamespaces("de");
        var pod = ns.Add($"pod-{ns.Suffix}");
        var dataDir = $"/tmp/branch-eni-test-{ns.Suffix}";
        try
        {
            // host-local refuses a subnet that is not a CIDR: ptp reports it, we relay it.
            var config = "{\"cniVersion\":\"1.0.0\",\"name\":\"pods\",\"type\":\"branch-eni\",\"stateDir\":\"" + dataDir + "/s\",\"logFile\":\""
                + dataDir + "/l\",\"delegate\":{\"type\":\"ptp\",\"ipam\":{\"type\":\"host-local\",\"subnet\":\"not-a-subnet\",\"dataDir\":\""
                + dataDir + "/ipam\"}}}";
            var before = TestNamespaces.Snapshot(ns.Node);
            var add = PluginProcess.Run(ns.Node, "ADD", config, "ctr2", TestNamespaces.PathOf(pod));

            Assert.NotEqual(0, add.ExitCode);
            Assert.Contains("delegate ptp", add.Json.GetProperty("msg").GetString(), StringComparison.Ordinal);
            Assert.Equal(before, TestNamespaces.Snapshot(ns.Node));

            var missing = config.Replace("\"type\":\"ptp\"", "\"type\":\"no-such-plugin\"", StringComparison.Ordinal);
            var outcome = PluginProcess.Run(ns.Node, "ADD", missing, "ctr2", TestNamespaces.PathOf(pod));
            Assert.Equal(4, outcome.ErrorCode);
            Assert.Contains("no-such-plugin", outcome.Json.GetProperty("msg").GetString(), StringComparison.Ordinal);
        }
        finally
        {
            if (Directory.Exists(dataDir))
            {
                Directory.Delete(dataDir, recursive: true);
            }
        }
    }

    [Fact]
    public void WithoutDelegateAPodWithoutBranchIsErrorOneHundredOne()
    {
        using var ns = new TestNamespaces("nd");
        var pod = ns.Add($"pod-{ns.Suffix}");
        var config = $$$"""{"cniVersion":"1.0.0","name":"pods","type":"branch-eni","stateDir":"/tmp/branch-eni-nd-{{{ns.Suffix}}}","logFile":"/tmp/branch-eni-nd-{{{ns.Suffix}}}/l"}""";
        try
        {
            var add = PluginProcess.Run(ns.Node, "ADD", config, "ctr3", TestNamespaces.PathOf(pod), "K8S_POD_NAMESPACE=a;K8S_POD_NAME=b");

            Assert.Equal(101, add.ErrorCode);
            Assert.Contains("a/b", add.Json.GetProperty("msg").GetString(), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete($"/tmp/branch-eni-nd-{ns.Suffix}", recursive: true);
        }
    }
}
