using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using BranchEni.Agent.Tests.Sandbox;
using BranchEni.Contracts;
using Xunit.Abstractions;

namespace BranchEni.Agent.Tests.EndToEnd;

/// <summary>Many pods at once under the sandbox's default EC2 throttling, and a hard kill in the middle.</summary>
public sealed class AgentScaleTests(ITestOutputHelper output)
{
    private const string GreenSg = "sg-0a1b2c3d4e5f62002";
    private const int Pods = 100;

    [Fact]
    public async Task Hundred_policy_pods_on_one_node_with_throttling_on_all_get_distinct_branches()
    {
        await using var world = await AgentWorld.CreateAsync(sandbox: o => o.Seed.Instances[0].InstanceType = "m5.24xlarge");
        await world.Kube.CreateSgpAsync("app", "all", $$$"""{"podSelector": {"matchLabels": {"sgp": "yes"}}, "securityGroups": {"groupIds": ["{{{GreenSg}}}"]}}""");
        var agent = world.StartAgent();
        await AgentWorld.EventuallyAsync(() => Task.FromResult(agent.Publisher is not null), TimeSpan.FromSeconds(30), "agent running");
        await Task.Delay(200);

        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Pods).Select(i => world.Kube.CreatePodAsync("app", $"p{i:000}", AgentWorld.NodeName, "sgp=yes")));
        var created = clock.Elapsed;
        var annotations = await AgentWorld.EventuallyAsync(async () => await world.Kube.AnnotationsAsync("app") is { Count: Pods } all ? all : null,
            TimeSpan.FromSeconds(90), "all pods annotated");
        var done = clock.Elapsed;

        var branches = annotations.Values.Select(BranchEniParser.ParseAnnotation).ToList();
        Assert.Equal(Pods, branches.Select(b => b.EniId).Distinct().Count());
        Assert.Equal(Enumerable.Range(1, Pods), branches.Select(b => b.VlanId).Order());
        var snapshot = world.Sandbox.Host.Admin.Snapshot();
        Assert.Equal(Pods, snapshot.NetworkInterfaces.Count(e => e.Description == "aws-k8s-branch-eni"));
        Assert.Equal(Pods, snapshot.Associations.Select(a => a.VlanId).Distinct().Count());
        Assert.All(agent.Publisher!.AnnotationWrites.Values, n => Assert.Equal(1, n));

        // Floor: AssociateTrunkInterface shares the mutating bucket (burst 50, 5/s) with the trunk's attach and modify.
        var floor = TimeSpan.FromSeconds((Pods + 2 - 50) / 5.0);
        output.WriteLine($"{Pods} pods created in {created.TotalSeconds:0.00} s; all annotated after {done.TotalSeconds:0.00} s; " +
            $"token-bucket floor {floor.TotalSeconds:0.00} s; ratio {done / floor:0.00}; throttled answers {agent.Metrics.Throttles}; retries {agent.Metrics.Retries}");
        output.WriteLine($"agent process RSS (test host, includes sandbox) {Process.GetCurrentProcess().WorkingSet64 / 1048576} MB");
    }

    [Fact]
    public async Task Killed_with_sigkill_mid_provisioning_and_restarted_leaks_nothing_and_uses_no_vlan_twice()
    {
        await using var world = await AgentWorld.CreateAsync(sandbox: o => o.Seed.Instances[0].InstanceType = "m5.24xlarge");
        await world.Kube.CreateSgpAsync("app", "all", $$$"""{"podSelector": {}, "securityGroups": {"groupIds": ["{{{GreenSg}}}"]}}""");
        await Task.WhenAll(Enumerable.Range(0, Pods).Select(i => world.Kube.CreatePodAsync("app", $"p{i:000}", AgentWorld.NodeName)));

        // The real executable, killed with SIGKILL once some pods are annotated and others are in flight.
        Dictionary<string, string> before;
        var healthPort = FreePort();
        using (var first = StartAgentProcess(world, healthPort))
        {
            before = await AgentWorld.EventuallyAsync(async () => await world.Kube.AnnotationsAsync("app") is { Count: >= 55 } some ? some : null,
                TimeSpan.FromSeconds(60), "a first batch annotated");
            first.Process.Kill();
            await first.Process.WaitForExitAsync();
            output.WriteLine($"SIGKILL after {before.Count} pods annotated");
        }

        // Restarted: it finishes the others from tags and records, then stops cleanly on SIGTERM.
        Dictionary<string, string> after;
        using (var second = StartAgentProcess(world, healthPort))
        {
            after = await AgentWorld.EventuallyAsync(async () => await world.Kube.AnnotationsAsync("app") is { Count: Pods } all ? all : null,
                TimeSpan.FromSeconds(90), "all pods annotated after the restart");
            await Task.Delay(TimeSpan.FromSeconds(3));
            var rss = MemoryReport(second.Process.Id);
            using var http = new HttpClient();
            var metrics = await http.GetStringAsync(new Uri($"http://127.0.0.1:{healthPort}/metrics"));
            Assert.Contains("branch_eni_branches_in_use 100\n", metrics, StringComparison.Ordinal);
            output.WriteLine($"restarted agent with {Pods} branch pods: {rss.Replace("\t", " ", StringComparison.Ordinal)}");
            Process.Start("kill", $"-TERM {second.Process.Id}")!.WaitForExit();
            Assert.True(second.Process.WaitForExit(20_000), "the agent did not stop within 20 s of SIGTERM");
            second.Process.WaitForExit(); // drains the redirected output
            Assert.Equal(0, second.Process.ExitCode);
            Assert.Contains(second.Lines, l => l.Contains("Agent stopped", StringComparison.Ordinal));
        }

        // Pods annotated before the kill kept exactly their annotation (the restart did not provision them again).
        foreach (var (pod, annotation) in before)
        {
            Assert.Equal(annotation, after[pod]);
        }

        var branches = after.Values.Select(BranchEniParser.ParseAnnotation).ToList();
        Assert.Equal(Pods, branches.Select(b => b.VlanId).Distinct().Count());
        Assert.Equal(Pods, branches.Select(b => b.EniId).Distinct().Count());
        var snapshot = world.Sandbox.Host.Admin.Snapshot();
        var ours = snapshot.NetworkInterfaces.Where(e => e.Description == "aws-k8s-branch-eni").Select(e => e.Id).Order().ToList();
        Assert.Equal(branches.Select(b => b.EniId).Order(), ours);
        Assert.Equal(Pods, snapshot.Associations.Count);
        Assert.Equal(Pods, snapshot.Associations.Select(a => a.VlanId).Distinct().Count());
        Assert.Single(snapshot.NetworkInterfaces, e => e.InterfaceType == "trunk");
    }

    private sealed class AgentProcess(Process process) : IDisposable
    {
        public Process Process { get; } = process;

        public System.Collections.Concurrent.ConcurrentQueue<string> Lines { get; } = new();

        public void Dispose()
        {
            if (!Process.HasExited)
            {
                Process.Kill();
                Process.WaitForExit();
            }

            Process.Dispose();
        }
    }

    private AgentProcess StartAgentProcess(AgentWorld world, int healthPort)
    {
        var o = world.Options;
        // BRANCH_ENI_TEST_AGENT_BINARY runs this test against another build (the native-AOT publish, for its RSS).
        var binary = Environment.GetEnvironmentVariable("BRANCH_ENI_TEST_AGENT_BINARY") is { Length: > 0 } b ? b : Path.Combine(AppContext.BaseDirectory, "branch-eni-agent");
        var start = new ProcessStartInfo(binary, "run")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var env = new Dictionary<string, string>
        {
            ["ENABLE_POD_ENI"] = "true",
            ["CLUSTER_NAME"] = o.ClusterName!,
            ["NODE_NAME"] = o.NodeName!,
            ["KUBECONFIG"] = o.Kubeconfig!,
            ["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = o.ImdsEndpoint.ToString(),
            ["BRANCH_ENI_EC2_ENDPOINT"] = o.Ec2Endpoint!.ToString(),
            ["BRANCH_ENI_STATE_DIR"] = o.StateDir,
            ["BRANCH_ENI_CNI_BIN_DIR"] = "",
            ["BRANCH_ENI_CNI_CONF_DIR"] = "",
            ["BRANCH_ENI_HEALTH_ADDRESS"] = $"127.0.0.1:{healthPort}",
            ["BRANCH_ENI_METRICS_ADDRESS"] = "",
            ["AWS_ACCESS_KEY_ID"] = "AKIDEXAMPLE",
            ["AWS_SECRET_ACCESS_KEY"] = "secret",
            ["AWS_VPC_K8S_CNI_LOGLEVEL"] = "info",

            // The apphost finds the runtime the tests run on.
            ["DOTNET_ROOT"] = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(typeof(object).Assembly.Location)!, "..", "..", "..")),
        };
        // BRANCH_ENI_TEST_AGENT_ENV ("K=V;K=V") adds runtime settings to compare, e.g. DOTNET_GCgen0size=0x100000.
        foreach (var pair in (Environment.GetEnvironmentVariable("BRANCH_ENI_TEST_AGENT_ENV") ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            env[pair[..pair.IndexOf('=', StringComparison.Ordinal)]] = pair[(pair.IndexOf('=', StringComparison.Ordinal) + 1)..];
        }

        foreach (var (k, v) in env)
        {
            start.Environment[k] = v;
        }

        output.WriteLine($"starting {start.FileName} run");
        var agent = new AgentProcess(Process.Start(start)!);
        agent.Process.OutputDataReceived += (_, e) => { if (e.Data is not null) { agent.Lines.Enqueue(e.Data); } };
        agent.Process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { agent.Lines.Enqueue(e.Data); } };
        agent.Process.BeginOutputReadLine();
        agent.Process.BeginErrorReadLine();
        return agent;
    }

    /// <summary>The steady-RSS benchmark line (issue 6): resident total, anonymous vs file-backed, and thread count.</summary>
    private static string MemoryReport(int pid)
    {
        var status = File.ReadAllLines($"/proc/{pid}/status");
        string Field(string name) => status.Single(l => l.StartsWith(name + ":", StringComparison.Ordinal))[(name.Length + 1)..].Trim();

        // BRANCH_ENI_TEST_SMAPS_OUT keeps the full mapping list for a closer look at where the memory is.
        if (Environment.GetEnvironmentVariable("BRANCH_ENI_TEST_SMAPS_OUT") is { Length: > 0 } smapsOut)
        {
            File.Copy($"/proc/{pid}/smaps", smapsOut, overwrite: true);
        }

        return $"VmRSS {Field("VmRSS")} (RssAnon {Field("RssAnon")}, RssFile {Field("RssFile")}), VmHWM {Field("VmHWM")}, Threads {Field("Threads")}";
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
