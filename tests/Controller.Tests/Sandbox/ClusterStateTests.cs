using BranchEni.Controller.Election;
using BranchEni.Controller.Tls;
using BranchEni.Kube;

namespace BranchEni.Controller.Tests.Sandbox;

/// <summary>What replicas share through the API server: the Lease (one leader, hand-over) and the TLS Secret (one CA).</summary>
public sealed class ClusterStateTests(ControllerWorld world) : IClassFixture<ControllerWorld>
{
    private LeaderElector Elector(KubeConnection kube, string lease, string who) =>
        new(kube, "kube-system", lease, LeaderElector.NewIdentity(who), Serilog.Core.Logger.None)
        {
            LeaseDuration = TimeSpan.FromSeconds(3),
            RenewDeadline = TimeSpan.FromSeconds(2),
            RetryPeriod = TimeSpan.FromMilliseconds(200),
        };

    [Fact]
    public async Task Two_electors_agree_on_exactly_one_leader_and_hand_over_when_it_stops()
    {
        using var kube = KubeConnection.Connect(world.KubeconfigPath("admin"));
        var a = Elector(kube, "election-test", "a");
        var b = Elector(kube, "election-test", "b");
        using var stopA = new CancellationTokenSource();
        using var stopB = new CancellationTokenSource();
        var runA = a.RunAsync(stopA.Token);
        var runB = b.RunAsync(stopB.Token);

        await ControllerWorld.Eventually(() => Task.FromResult(a.IsLeader || b.IsLeader), "a leader");
        for (var i = 0; i < 10; i++)
        {
            Assert.True(a.IsLeader ^ b.IsLeader, "exactly one elector leads");
            await Task.Delay(150);
        }

        var (leader, stopLeader, runLeader, follower) = a.IsLeader ? (a, stopA, runA, b) : (b, stopB, runB, a);
        Assert.Equal(leader.Identity, await HolderAsync(kube, "election-test"));

        await stopLeader.CancelAsync();
        await runLeader;
        Assert.False(leader.IsLeader);
        // Released on stop: the follower takes over well before the 3 s lease duration would have run out.
        await ControllerWorld.Eventually(() => Task.FromResult(follower.IsLeader), "the follower to take over", seconds: 2);
        Assert.Equal(follower.Identity, await HolderAsync(kube, "election-test"));

        await (follower == a ? stopA : stopB).CancelAsync();
        await (follower == a ? runA : runB);
    }

    [Fact]
    public async Task The_running_controller_holds_its_lease_and_says_so_in_metrics()
    {
        using var kube = KubeConnection.Connect(world.KubeconfigPath("admin"));
        await ControllerWorld.Eventually(() => Task.FromResult(world.Controller.Elector.IsLeader), "the controller to lead");
        Assert.Equal(world.Controller.Elector.Identity, await HolderAsync(kube, "branch-eni-controller"));
        Assert.Contains("branch_eni_controller_leader 1", await world.Http.GetStringAsync(new Uri(world.Health, "/metrics")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Replicas_creating_the_secret_at_once_converge_on_one_ca()
    {
        var names = ServingNames.ForService("kube-system", "branch-eni-controller");
        var stores = Enumerable.Range(0, 4).Select(_ => new TlsSecretStore(KubeConnection.Connect(world.KubeconfigPath("admin")), "kube-system", "race-tls", Serilog.Core.Logger.None)).ToList();

        var materials = await Task.WhenAll(stores.Select(s => Task.Run(() => s.EnsureAsync(names, DateTimeOffset.UtcNow, CancellationToken.None))));

        Assert.Single(materials.Select(m => m.CaBundle).Distinct());
        Assert.Single(materials.Select(m => m.Certificate).Distinct());
        var stored = await stores[0].EnsureAsync(names, DateTimeOffset.UtcNow, CancellationToken.None);
        Assert.Equal(materials[0], stored);
    }

    [Fact]
    public async Task A_secret_holding_garbage_is_replaced_with_working_material()
    {
        await Kubectl.RunAsync(world, "admin", """{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "bad-tls", "namespace": "kube-system"}, "data": {"ca.crt": "eA=="}}""", "apply", "-f", "-");
        var store = new TlsSecretStore(KubeConnection.Connect(world.KubeconfigPath("admin")), "kube-system", "bad-tls", Serilog.Core.Logger.None);
        var names = ServingNames.ForService("kube-system", "branch-eni-controller");

        var material = await store.EnsureAsync(names, DateTimeOffset.UtcNow, CancellationToken.None);

        using var serving = material.ServingCertificate();
        Assert.True(names.CoveredBy(serving));
        Assert.Equal(material, await store.EnsureAsync(names, DateTimeOffset.UtcNow, CancellationToken.None));
    }

    private static async Task<string?> HolderAsync(KubeConnection kube, string lease) =>
        (await k8s.CoordinationV1OperationsExtensions.ReadNamespacedLeaseAsync(kube.Client.CoordinationV1, lease, "kube-system")).Spec.HolderIdentity;
}
