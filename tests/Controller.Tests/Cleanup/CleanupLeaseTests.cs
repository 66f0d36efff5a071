using BranchEni.Controller.Cleanup;
using BranchEni.Controller.Election;
using BranchEni.Controller.Observability;

namespace BranchEni.Controller.Tests.Cleanup;

/// <summary>
/// Exactly once: only the Lease holder cleans up, and two replicas (each with its own elector and job, as two controller
/// processes would have, against one sandbox) delete every garbage ENI once between them, across a hand-over.
/// </summary>
public sealed class CleanupLeaseTests(CleanupWorld world) : IClassFixture<CleanupWorld>
{
    private static string NewCluster() => "c" + Guid.NewGuid().ToString("N")[..10];

    [Fact]
    public async Task A_replica_that_does_not_lead_asks_ec2_nothing_and_deletes_nothing()
    {
        var cluster = NewCluster();
        var branch = await world.CreateEniAsync("branch", cluster, CleanupWorld.GoneInstance);
        var describes = world.Calls("DescribeNetworkInterfaces");
        var asked = 0;
        var job = world.Job(cluster, new ControllerMetrics(), () => null, isLeader: () => Interlocked.Increment(ref asked) < 0,
            cooldown: TimeSpan.Zero, interval: TimeSpan.FromMilliseconds(10));
        using var stop = new CancellationTokenSource();
        var run = job.RunAsync(stop.Token);

        await CleanupWorld.Eventually(() => Volatile.Read(ref asked) >= 5, "five passes to ask for leadership");
        await stop.CancelAsync();
        await run;
        Assert.Equal(describes, world.Calls("DescribeNetworkInterfaces"));
        Assert.True(world.Exists(branch));
    }

    [Fact]
    public async Task Two_replicas_delete_each_garbage_eni_once_across_a_lease_hand_over()
    {
        var cluster = NewCluster();
        var lease = "cleanup-" + cluster;
        var deletesBefore = world.Calls("DeleteNetworkInterface");
        var replicas = Enumerable.Range(0, 2).Select(i => new Replica(world, cluster, lease, $"replica-{i}")).ToList();
        var first = await CreateGarbageAsync(cluster, 10);
        // Waiting on the replicas' own count, not on EC2: an ENI is gone from EC2 before the job has read the answer, and
        // stopping a replica in that gap cancels the call and loses its count (the delete itself stays done).
        await CleanupWorld.Eventually(() => first.All(id => !world.Exists(id)) && Deleted(replicas) == 10, "the first leader to delete the first batch");
        var leader = replicas.Single(r => r.Elector.IsLeader);
        var other = replicas.Single(r => r != leader);

        // The leader stops (hands the Lease back); the other takes over and cleans up what comes next.
        await leader.StopAsync();
        var second = await CreateGarbageAsync(cluster, 10);
        await CleanupWorld.Eventually(() => second.All(id => !world.Exists(id)) && Deleted(replicas) == 20, "the new leader to delete the second batch");
        await other.StopAsync();

        // One DeleteNetworkInterface per ENI in all (a second try, even answered NotFound, would be counted here).
        Assert.Equal(20, world.Calls("DeleteNetworkInterface") - deletesBefore);
        Assert.Equal(20, leader.Metrics.EnisDeleted("branch", "instance-gone") + other.Metrics.EnisDeleted("branch", "instance-gone"));
        Assert.True(other.Metrics.EnisDeleted("branch", "instance-gone") >= 10, "the second batch was deleted by the replica left running");
    }

    private static long Deleted(List<Replica> replicas) => replicas.Sum(r => r.Metrics.EnisDeleted("branch", "instance-gone"));

    private async Task<List<string>> CreateGarbageAsync(string cluster, int count)
    {
        var ids = new List<string>();
        for (var i = 0; i < count; i++)
        {
            ids.Add(await world.CreateEniAsync("branch", cluster, CleanupWorld.GoneInstance));
        }

        return ids;
    }

    /// <summary>One controller replica's share of the job: its elector and its cleanup, on the real clock with short
    /// periods (the elector's 2 s Lease, passes every 50 ms, a 300 ms cooldown).</summary>
    private sealed class Replica
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _run;

        public Replica(CleanupWorld world, string cluster, string lease, string name)
        {
            Elector = new LeaderElector(world.Kube, "kube-system", lease, LeaderElector.NewIdentity(name), world.Logger)
            {
                LeaseDuration = TimeSpan.FromSeconds(2),
                RenewDeadline = TimeSpan.FromMilliseconds(1500),
                RetryPeriod = TimeSpan.FromMilliseconds(100),
            };
            var job = world.Job(cluster, Metrics, () => null, isLeader: () => Elector.IsLeader,
                cooldown: TimeSpan.FromMilliseconds(300), interval: TimeSpan.FromMilliseconds(50));
            Elector.LeadershipChanged += job.OnLeadershipChanged;
            _run = Task.WhenAll(Elector.RunAsync(_stop.Token), job.RunAsync(_stop.Token));
        }

        public LeaderElector Elector { get; }

        public ControllerMetrics Metrics { get; } = new();

        public async Task StopAsync()
        {
            await _stop.CancelAsync();
            await _run;
            _stop.Dispose();
        }
    }
}
