using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using BranchEni.Agent.Tests.Sandbox;
using BranchEni.Sandbox.Ec2;
using BranchEni.Sandbox.Hosting;
using BranchEni.Testing;

namespace BranchEni.Bench;

/// <summary>
/// The agent (issues 6 and 10): the native-AOT `branch-eni-agent run` process against the sandbox hosted in this
/// process with its default EC2 throttling. 100 pods matched by a SecurityGroupPolicy are created at once; the time
/// until every one is annotated is set against the token-bucket floor (the calls the run needed beyond each bucket's
/// burst, divided by its refill rate); then the agent's resident memory with those 100 branch pods, settled.
/// </summary>
internal static class AgentBench
{
    private const int Pods = 100;
    private const string Namespace = "app";
    private const string NodeName = "node-1"; // the default seed's node (instance i-0a1b2c3d4e5f63001)

    /// <summary>Where bench.sh publishes the agent (dotnet publish src/NodeAgent -c Release -r linux-x64).</summary>
    public static string Binary => Path.Combine(RepoPaths.Root, "artifacts", "bench", "agent", "branch-eni-agent");

    public static IEnumerable<Measurement> Run() => RunAsync().GetAwaiter().GetResult();

    private static async Task<IReadOnlyList<Measurement>> RunAsync()
    {
        if (!File.Exists(Binary))
        {
            throw new FileNotFoundException($"the native agent is not at {Binary}; bench.sh publishes it");
        }

        var dir = Directory.CreateTempSubdirectory("branch-eni-bench-agent-").FullName;
        try
        {
            var options = new SandboxOptions { StateDirectory = Path.Combine(dir, "sandbox") };
            options.Seed.Instances[0].InstanceType = "m5.24xlarge"; // 107 branches: room for all 100 pods
            Directory.CreateDirectory(options.StateDirectory);
            await using var host = await SandboxHost.StartAsync(options);
            using var kube = new KubeTestClient(host.Endpoints.Kubernetes);
            await kube.CreateNamespaceAsync(Namespace);
            await kube.CreateSgpAsync(Namespace, "all", """{"podSelector": {"matchLabels": {"sgp": "yes"}}, "securityGroups": {"groupIds": ["sg-0a1b2c3d4e5f62002"]}}""");

            var health = $"127.0.0.1:{FreePort()}";
            using var agent = StartAgent(host, options, dir, health);
            try
            {
                return await MeasureAsync(agent, host, kube, options.Throttling, health);
            }
            finally
            {
                if (!agent.HasExited)
                {
                    agent.Kill();
                    agent.WaitForExit();
                }
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task<IReadOnlyList<Measurement>> MeasureAsync(Process agent, SandboxHost host, KubeTestClient kube, ThrottleSettings buckets, string health)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        await Until(async () => agent.HasExited ? throw new InvalidOperationException($"the agent exited with {agent.ExitCode}")
            : await IsReady(http, health), TimeSpan.FromSeconds(60), "the agent ready");

        // Full buckets at the start of the window, as the floor assumes: the trunk's two mutating calls refill in 0.4 s.
        await Task.Delay(TimeSpan.FromSeconds(1));
        var before = host.Admin.CallCounts;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Pods).Select(i =>
            kube.CreatePodAsync(Namespace, $"p{i:000}", NodeName, "sgp=yes")));
        await Until(async () => (await kube.AnnotationsAsync(Namespace)).Count == Pods, TimeSpan.FromSeconds(120), $"{Pods} pods annotated");
        var annotated = clock.Elapsed.TotalMilliseconds;
        var floor = TokenBucketFloorMs(before, host.Admin.CallCounts, buckets);

        // Settled: the informers and work queue idle, a few GCs behind us.
        await Task.Delay(TimeSpan.FromSeconds(3));
        var rssMb = StatusKb(agent.Id, "VmRSS") / 1024.0;
        var fileMb = StatusKb(agent.Id, "RssFile") / 1024.0;
        var anonMb = StatusKb(agent.Id, "RssAnon") / 1024.0;
        Stop(agent);
        return
        [
            new Measurement($"agent: {Pods} SGP pods to annotated", annotated, "token-bucket floor", floor, AimRatio: 1.1, AimAbsolute: null),
            new Measurement($"agent steady RSS with {Pods} branch pods", rssMb, "-", null, AimRatio: null, AimAbsolute: 40, Unit: "MB"),
            // Where it is (no aims): pages of the executable and libraries, and anonymous memory (GC heap, the image's data
            // pages the process wrote to, stacks).
            new Measurement("  of which file-backed (binary, libraries)", fileMb, "-", null, AimRatio: null, AimAbsolute: null, Unit: "MB"),
            new Measurement("  of which anonymous (GC heap, written data pages, stacks)", anonMb, "-", null, AimRatio: null, AimAbsolute: null, Unit: "MB"),
        ];
    }

    /// <summary>
    /// The shortest time the sandbox's buckets allow for the calls made between two snapshots of the call counts
    /// (throttled answers excluded: they take no token): per bucket, the calls beyond a full burst divided by the refill
    /// rate; the slowest bucket sets the floor. The trunk's calls at start-up are before the window, and the bucket has
    /// refilled since, so they are not counted.
    /// </summary>
    internal static double TokenBucketFloorMs(IReadOnlyDictionary<string, Ec2CallCount> before, IReadOnlyDictionary<string, Ec2CallCount> after,
        ThrottleSettings buckets)
    {
        var served = new Dictionary<BucketSettings, long>();
        foreach (var (action, count) in after)
        {
            var earlier = before.GetValueOrDefault(action);
            var bucket = action switch
            {
                "CreateNetworkInterface" => buckets.CreateNetworkInterface,
                "DeleteNetworkInterface" => buckets.DeleteNetworkInterface,
                "CreateTags" => buckets.CreateTags,
                _ when action.StartsWith("Describe", StringComparison.Ordinal) => buckets.Describe,
                _ => buckets.Mutating,
            };
            served[bucket] = served.GetValueOrDefault(bucket) + count.Calls - count.Throttled - (earlier is null ? 0 : earlier.Calls - earlier.Throttled);
        }

        return served.Max(p => Math.Max(0, p.Value - p.Key.Capacity) / p.Key.RefillPerSecond) * 1000;
    }

    private static Process StartAgent(SandboxHost host, SandboxOptions options, string dir, string health)
    {
        var start = new ProcessStartInfo(Binary, "run") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (k, v) in new Dictionary<string, string>
        {
            ["ENABLE_POD_ENI"] = "true",
            ["CLUSTER_NAME"] = "bench",
            ["NODE_NAME"] = NodeName,
            ["KUBECONFIG"] = Path.Combine(options.StateDirectory!, "kubeconfig"),
            ["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = host.Endpoints.Imds.ToString(),
            ["BRANCH_ENI_EC2_ENDPOINT"] = host.Endpoints.Ec2.ToString(),
            ["BRANCH_ENI_STATE_DIR"] = Path.Combine(dir, "records"),
            ["BRANCH_ENI_CNI_BIN_DIR"] = "",
            ["BRANCH_ENI_CNI_CONF_DIR"] = "",
            ["BRANCH_ENI_HEALTH_ADDRESS"] = health,
            ["BRANCH_ENI_METRICS_ADDRESS"] = "",
            ["AWS_ACCESS_KEY_ID"] = "AKIDEXAMPLE",
            ["AWS_SECRET_ACCESS_KEY"] = "secret",
            ["AWS_VPC_K8S_CNI_LOGLEVEL"] = "info",
        })
        {
            start.Environment[k] = v;
        }

        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static void Stop(Process agent)
    {
        Process.Start("kill", $"-TERM {agent.Id}")!.WaitForExit();
        if (!agent.WaitForExit(20_000))
        {
            agent.Kill();
            throw new InvalidOperationException("the agent did not stop within 20 s of SIGTERM");
        }
    }

    /// <summary>Ready, or waiting only for the trunk's link: without the demo's fabric no link carries the trunk's MAC
    /// on this host, but the informers are synced and the workers provisioning by then.</summary>
    internal static async Task<bool> IsReady(HttpClient http, string health)
    {
        try
        {
            using var response = await http.GetAsync(new Uri($"http://{health}/readyz"));
            return response.StatusCode == HttpStatusCode.OK
                || (await response.Content.ReadAsStringAsync()).StartsWith("trunk link not found", StringComparison.Ordinal);
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    internal static async Task Until(Func<Task<bool>> probe, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await probe())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"timed out after {timeout.TotalSeconds:0} s waiting for {what}");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>A `Name:   123 kB` field of /proc/PID/status, in kB.</summary>
    internal static long StatusKb(int pid, string field)
    {
        var line = File.ReadLines($"/proc/{pid}/status").Single(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        return long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
    }

    private static readonly HashSet<int> HandedOut = [];

    /// <summary>A port for a process that listens for the whole run and is restarted during it (the soak's agents):
    /// below the kernel's ephemeral range (32768-60999 by default), so that no outgoing connection of the 20 agents can
    /// take it between a kill and the restart (seen once: an agent's health listener failed "address already in use").</summary>
    internal static int ListenPort()
    {
        lock (HandedOut)
        {
            for (var tries = 0; tries < 1000; tries++)
            {
                var port = Random.Shared.Next(20000, 32768);
                if (!HandedOut.Add(port))
                {
                    continue;
                }

                try
                {
                    using var listener = new TcpListener(IPAddress.Loopback, port);
                    listener.Start();
                    return port;
                }
                catch (SocketException)
                {
                    // Taken by someone else: try another.
                }
            }

            throw new InvalidOperationException("no free port in 20000-32767");
        }
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
