using System.Text.Json.Nodes;

namespace BranchEni.Cni.Tests.Corpus;

/// <summary>The namespaces, state directory and fake API the corpus runs against.</summary>
public sealed class CorpusFixture : IDisposable
{
    public CorpusFixture()
    {
        Namespaces = new TestNamespaces("ec");
        Pod = Namespaces.Add($"pod-{Namespaces.Suffix}");
        Shell.Run($"ip -n {Namespaces.Node} link add trunk0 type veth peer name trunkpeer && ip -n {Namespaces.Node} link set trunk0 up");
        StateDir = $"/tmp/branch-eni-corpus-{Namespaces.Suffix}";
        Directory.CreateDirectory(Path.Combine(StateDir, "pods"));
        var mac = System.Text.Json.JsonDocument.Parse(Shell.Run($"ip -n {Namespaces.Node} -j link show trunk0")).RootElement[0]
            .GetProperty("address").GetString();
        File.WriteAllText(Path.Combine(StateDir, "trunk.json"), $$"""{"eniId":"eni-0abc","macAddress":"{{mac}}","linkName":"trunk0"}""");
        Api = new FakePodApi(TestNamespaces.PathOf(Namespaces.Node));
        Kubeconfig = Api.WriteKubeconfig(StateDir);
    }

    public TestNamespaces Namespaces { get; }

    public string Pod { get; }

    public string StateDir { get; }

    public FakePodApi Api { get; }

    public string Kubeconfig { get; }

    public void Dispose()
    {
        Api.Dispose();
        Namespaces.Dispose();
        Directory.Delete(StateDir, recursive: true);
    }
}

/// <summary>
/// Every bad input through the published binary in a throwaway node namespace: a non-zero exit, the spec's code, a
/// message naming what is wrong, and the node and pod namespaces exactly as before.
/// </summary>
public sealed class ErrorCorpusTests(CorpusFixture fixture) : IClassFixture<CorpusFixture>
{
    private static readonly List<BadInput> Cases = BadInputs.All().ToList();

    public static TheoryData<string> CaseNames() => new(Cases.Select(c => c.Name));

    [Fact]
    public void TheCorpusHasAtLeastAHundredDistinctCases()
    {
        Assert.True(Cases.Count >= 100, $"only {Cases.Count} cases");
        Assert.Equal(Cases.Count, Cases.Select(c => c.Name).Distinct().Count());
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void BadInputIsRefusedWithItsCodeAndChangesNothing(string name)
    {
        var index = Cases.FindIndex(c => c.Name == name);
        var bad = Cases[index];
        var uid = $"{index:x8}-0000-4000-8000-00000000c0de";
        var pod = $"pod-{index}";
        string Fill(string text) => text.Replace("{UID}", uid, StringComparison.Ordinal).Replace("{NAME}", pod, StringComparison.Ordinal);
        var records = Path.Combine(fixture.StateDir, "pods");
        foreach (var file in Directory.EnumerateFiles(records))
        {
            File.Delete(file);
        }

        if (bad.Record is { } record)
        {
            var other = record.StartsWith("OTHER:", StringComparison.Ordinal);
            var recordUid = other ? "ffffffff-0000-4000-8000-00000000c0de" : uid;
            File.WriteAllText(Path.Combine(records, $"{recordUid}.json"), Fill(other ? record["OTHER:".Length..] : record).Replace(uid, recordUid, StringComparison.Ordinal));
        }
        else if (!bad.Api)
        {
            // A valid record, so only the spoiled input stands between this pod and the branch path.
            File.WriteAllText(Path.Combine(records, $"{uid}.json"), Fill(GoodRecord));
        }

        fixture.Api.Pods.Clear();
        if (bad.ApiPod is { } apiPod)
        {
            fixture.Api.Pods[$"default/{pod}"] = Fill(apiPod);
        }

        var config = bad.RawConfig ?? BuildConfig(bad, Fill);
        var env = new Dictionary<string, string>();
        var netns = TestNamespaces.PathOf(fixture.Pod);
        var args = Fill(bad.Args ?? "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME={NAME};K8S_POD_UID={UID}");
        var containerId = $"ctr{index}";
        var ifName = "eth0";
        var unset = new List<string>();
        foreach (var (variable, value) in bad.Env)
        {
            switch (variable, value)
            {
                case ("CNI_NETNS", _): netns = value!; break;
                case ("CNI_CONTAINERID", _): containerId = value!; break;
                case ("CNI_IFNAME", _): ifName = value!; break;
                default: if (value is not null) { env[variable] = value; } break;
            }

            if (value is null)
            {
                unset.Add(variable);
            }
        }

        var nodeBefore = TestNamespaces.Snapshot(fixture.Namespaces.Node);
        var podBefore = TestNamespaces.Snapshot(fixture.Pod);
        var outcome = PluginProcess.Run(fixture.Namespaces.Node, bad.Env.TryGetValue("CNI_COMMAND", out var cmd) ? cmd! : bad.Command,
            config, containerId, netns, args, ifName, env, unset);

        Assert.NotEqual(0, outcome.ExitCode);
        Assert.True(outcome.ErrorCode == bad.Code, $"{name}: expected code {bad.Code}, got {outcome.Stdout}");
        if (bad.Names is { } named)
        {
            var text = outcome.Json.GetProperty("msg").GetString() + " " + (outcome.Json.TryGetProperty("details", out var d) ? d.GetString() : "");
            Assert.True(text.Contains(named, StringComparison.Ordinal), $"{name}: the error does not name '{named}': {outcome.Stdout}");
        }

        Assert.Equal(nodeBefore, TestNamespaces.Snapshot(fixture.Namespaces.Node));
        Assert.Equal(podBefore, TestNamespaces.Snapshot(fixture.Pod));
    }

    private const string GoodRecord =
        """{"eniId":"eni-0f1","ifAddress":"0e:ee:16:bd:41:31","privateIp":"10.77.0.20","ipv6Addr":"","vlanId":7,"subnetCidr":"10.77.0.0/24","subnetV6Cidr":"","associationID":"trunk-assoc-1","podNamespace":"default","podName":"{NAME}","podUid":"{UID}"}""";

    private string BuildConfig(BadInput bad, Func<string, string> fill)
    {
        var node = new JsonObject
        {
            ["cniVersion"] = "1.0.0", ["name"] = "pods", ["type"] = "branch-eni", ["stateDir"] = fixture.StateDir,
            ["logFile"] = Path.Combine(fixture.StateDir, "plugin.log"),
        };
        if (bad.Api)
        {
            node["kubeconfig"] = fixture.Kubeconfig;
            node["annotationWaitSeconds"] = 1;
        }

        foreach (var (field, json) in bad.Config)
        {
            if (json is null)
            {
                node.Remove(field);
            }
            else
            {
                node[field] = JsonNode.Parse(fill(json));
            }
        }

        return node.ToJsonString();
    }
}
