using System.Text.Json;
using BranchEni.Cni.Tests.Corpus;
using BranchEni.Contracts;

namespace BranchEni.Cni.Tests.Delegation;

/// <summary>
/// Pods without a branch ENI go to `delegate` (Debian's ptp + host-local here) with our environment; the published
/// binary runs in a throwaway node namespace and the pod in another, for every spec version. Only pods that the agent
/// (its decision record) or the API says nothing selects are delegated: the others fail closed.
/// </summary>
public sealed class DelegationTests
{
    private const string Uid = "1234abcd-0000-0000-0000-000000000001";

    /// <summary>What the agent writes for a pod of its node no policy selects.</summary>
    internal static void NoBranchDecision(string stateDir, string ns, string name, string uid) =>
        new NodeRecords(stateDir).WriteDecision(new PodDecision(uid, ns, name, false, "no SecurityGroupPolicy selects it"));

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
        const string args = "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=plain;K8S_POD_UID=" + Uid;
        try
        {
            NoBranchDecision($"{dataDir}/state", "default", "plain", Uid);
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
            NoBranchDecision($"/tmp/branch-eni-nd-{ns.Suffix}", "a", "b", Uid);
            var add = PluginProcess.Run(ns.Node, "ADD", config, "ctr3", TestNamespaces.PathOf(pod), $"K8S_POD_NAMESPACE=a;K8S_POD_NAME=b;K8S_POD_UID={Uid}");

            Assert.Equal(101, add.ErrorCode);
            Assert.Contains("a/b", add.Json.GetProperty("msg").GetString(), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete($"/tmp/branch-eni-nd-{ns.Suffix}", recursive: true);
        }
    }

    /// <summary>The race of issue 17: kubelet runs ADD before the agent has acted. The pod a SecurityGroupPolicy selects
    /// gets error 11 naming the policy, and the delegate never runs (nothing in the pod or node namespace, no address
    /// taken); the pod nothing selects is delegated as before.</summary>
    [Fact]
    public void BeforeTheAgentActsASelectedPodIsRefusedWithElevenAndNeverReachesTheDelegate()
    {
        using var ns = new TestNamespaces("fc");
        var pod = ns.Add($"pod-{ns.Suffix}");
        var dataDir = $"/tmp/branch-eni-test-{ns.Suffix}";
        using var api = new FakePodApi(TestNamespaces.PathOf(ns.Node));
        Directory.CreateDirectory(dataDir);
        var config = Config("1.0.0", dataDir, $"{dataDir}/plugin.log", 62)
            .Replace("\"logLevel\"", "\"annotationWaitSeconds\":1,\"kubeconfig\":\"" + api.WriteKubeconfig(dataDir) + "\",\"logLevel\"", StringComparison.Ordinal);
        api.Objects["/apis/vpcresources.k8s.aws/v1beta1/namespaces/default/securitygrouppolicies"] =
            """{"items":[{"metadata":{"name":"allow-db","namespace":"default"},"spec":{"podSelector":{"matchLabels":{"role":"backend"}},"securityGroups":{"groupIds":["sg-0db"]}}}]}""";
        api.Pods["default/green"] = "{\"metadata\":{\"uid\":\"" + Uid + "\",\"labels\":{\"role\":\"backend\"}},\"spec\":{\"containers\":[{}]}}";
        api.Pods["default/red"] = "{\"metadata\":{\"uid\":\"" + Uid.Replace('1', '2') + "\",\"labels\":{\"role\":\"frontend\"}},\"spec\":{\"containers\":[{}]}}";
        var before = TestNamespaces.Snapshot(ns.Node);
        var podBefore = TestNamespaces.Snapshot(pod);
        try
        {
            var green = PluginProcess.Run(ns.Node, "ADD", config, "ctr-g", TestNamespaces.PathOf(pod), $"K8S_POD_NAMESPACE=default;K8S_POD_NAME=green;K8S_POD_UID={Uid}");

            Assert.Equal(11, green.ErrorCode);
            Assert.Contains("SecurityGroupPolicy allow-db selects it", green.Json.GetProperty("msg").GetString(), StringComparison.Ordinal);
            Assert.Equal(before, TestNamespaces.Snapshot(ns.Node));
            Assert.Equal(podBefore, TestNamespaces.Snapshot(pod));
            Assert.False(Directory.Exists($"{dataDir}/ipam"), "the delegate's IPAM ran for a pod that must have a branch");

            var red = PluginProcess.Run(ns.Node, "ADD", config, "ctr-r", TestNamespaces.PathOf(pod), $"IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=red;K8S_POD_UID={Uid.Replace('1', '2')}")
                .EnsureSuccess();
            Assert.StartsWith("10.213.62.", red.Json.GetProperty("ips")[0].GetProperty("address").GetString(), StringComparison.Ordinal);
            PluginProcess.Run(ns.Node, "DEL", PluginProcess.With(config, "prevResult", red.Stdout), "ctr-r", TestNamespaces.PathOf(pod),
                $"IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=red;K8S_POD_UID={Uid.Replace('1', '2')}").EnsureSuccess();
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
    }
}
