using System.Diagnostics;
using BranchEni.Agent.Tests.Sandbox;
using BranchEni.Sandbox.Hosting;
using BranchEni.Sandbox.Seed;

namespace BranchEni.Bench;

/// <summary>
/// The cluster soak (issue 20): one sandbox hosted in this process with 20 instances and nodes, one native-AOT agent
/// process per node and two controller replicas, all spending one account's EC2 token buckets. 1,000 SGP pods are
/// created in waves across the nodes and deleted again in waves while EC2 throttles 30% of all calls, fails 5% with 500
/// InternalError and sometimes answers a second late, a random agent is killed -9 every 10 s and restarted, and one
/// instance is terminated for good in the middle of the create phase (its branches are left for the controller's
/// cleanup).
/// </summary>
/// <remarks>
/// A cheaper stand-in for 20 nodes: every agent runs on this host, not in a network namespace of its own, and without a
/// link carrying its trunk's MAC (as the agent rows run), so the kernel half (VLAN links, the CNI) is not exercised;
/// what is measured is the EC2 and Kubernetes side of 20 agents and the controller.
/// </remarks>
internal static class ClusterBench
{
    public const string ClusterName = "bench";
    public const int AgentCooldownSeconds = 30; // the agent's minimum
    public const int Nodes = 20;
    public const int Pods = 1000;
    internal const int Wave = 50;
    internal const int TerminateAfterWave = 8;
    internal const double ThrottleShare = 0.30;
    internal const double ServerErrorRate = 0.05;
    internal const double SpikeRate = 0.02;
    internal const int SpikeMilliseconds = 1000;
    private const int CleanupIntervalSeconds = 5;
    private const int CleanupCooldownSeconds = 10;
    private const string Namespace = "soak";

    /// <summary>The account's buckets as AWS documents them, with every refill rate doubled (an account whose limits AWS
    /// has raised), so that the 4,000 mutating calls of 1,000 pods fit a few minutes.</summary>
    internal const double RefillScale = 2;

    internal static readonly TimeSpan WaveEvery = TimeSpan.FromSeconds(2);
    internal static readonly TimeSpan KillEvery = TimeSpan.FromSeconds(10);
    internal static readonly TimeSpan RestartAfter = TimeSpan.FromSeconds(1);

    public static IEnumerable<Measurement> Run() => RunAsync().GetAwaiter().GetResult();

    private static async Task<IReadOnlyList<Measurement>> RunAsync()
    {
        var dir = Directory.CreateTempSubdirectory("branch-eni-bench-cluster-").FullName;
        var keep = Environment.GetEnvironmentVariable("BRANCH_ENI_BENCH_KEEP") is { Length: > 0 };
        try
        {
            var options = new SandboxOptions { Seed = ClusterSeed.Create(Nodes), StateDirectory = Path.Combine(dir, "sandbox"), Throttling = Account() };
            Directory.CreateDirectory(options.StateDirectory);
            await using var host = await SandboxHost.StartAsync(options);
            using var kube = new KubeTestClient(host.Endpoints.Kubernetes);
            await kube.CreateNamespaceAsync(Namespace);
            await kube.CreateSgpAsync(Namespace, "all", """{"podSelector": {"matchLabels": {"sgp": "yes"}}, "securityGroups": {"groupIds": ["sg-0a1b2c3d4e5f62002"]}}""");

            using var fleet = new ClusterFleet(dir, Path.Combine(options.StateDirectory, "kubeconfig"), host.Endpoints.Ec2);
            foreach (var node in options.Seed.Nodes!)
            {
                fleet.AddNode(node.Name, node.InstanceId, host.Endpoints.ImdsByInstance[node.InstanceId]);
            }

            fleet.StartController(1, CleanupIntervalSeconds, CleanupCooldownSeconds);
            fleet.StartController(2, CleanupIntervalSeconds, CleanupCooldownSeconds);
            fleet.Nodes.ForEach(fleet.StartAgent);
            await WaitReadyAsync(fleet);
            var soak = new ClusterSoak(host, kube, fleet, options.Throttling, Namespace);
            var rows = await soak.RunAsync();
            keep |= rows.Any(r => !r.MeetsAim);
            return rows;
        }
        catch
        {
            keep = true;
            throw;
        }
        finally
        {
            if (keep)
            {
                Console.Error.WriteLine($"cluster: the run's logs (sandbox state, one log per agent and controller) are in {dir}");
            }
            else
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    /// <summary>AWS's per-account buckets (DESIGN.md §5) with the refill rates scaled by <see cref="RefillScale"/>.</summary>
    internal static ThrottleSettings Account()
    {
        var settings = new ThrottleSettings();
        foreach (var bucket in new[] { settings.CreateNetworkInterface, settings.DeleteNetworkInterface, settings.CreateTags, settings.Mutating,
                     settings.Describe, settings.UnfilteredDescribeNetworkInterfaces })
        {
            bucket.RefillPerSecond *= RefillScale;
        }

        return settings;
    }

    private static async Task WaitReadyAsync(ClusterFleet fleet)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var clock = Stopwatch.StartNew();
        foreach (var node in fleet.Nodes)
        {
            await AgentBench.Until(async () => node.Agent!.HasExited
                    ? throw new InvalidOperationException($"the agent of {node.Node} exited with {node.Agent.ExitCode} before it was ready")
                    : await AgentBench.IsReady(http, node.Health),
                TimeSpan.FromSeconds(120) - clock.Elapsed, $"the agent of {node.Node} ready");
        }

        if (fleet.Controllers.FirstOrDefault(c => c.HasExited) is { } dead)
        {
            throw new InvalidOperationException($"a controller replica exited with {dead.ExitCode} at start");
        }
    }
}
