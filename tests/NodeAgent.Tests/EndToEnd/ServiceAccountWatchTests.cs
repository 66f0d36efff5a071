using System.Text.Json.Nodes;
using BranchEni.Agent.Tests.Sandbox;
using BranchEni.Contracts;
using BranchEni.Testing;

namespace BranchEni.Agent.Tests.EndToEnd;

/// <summary>
/// The agent watches service accounts only in namespaces where a SecurityGroupPolicy selects by service account and
/// its node has a pod (issue 18: a cluster-wide watch on every node of a 1,000-node cluster is 1,000 full copies of a
/// cluster-wide kind). What the agent asked the API server is read from a recording proxy in front of the sandbox; a
/// pod whose namespace's accounts are not known yet is never recorded as "no branch" (fail closed).
/// </summary>
public sealed class ServiceAccountWatchTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private const string GreenSg = "sg-0a1b2c3d4e5f62002";
    private const string RdsSg = "sg-0a1b2c3d4e5f62003";
    private const string ByAccount = $$$"""{"serviceAccountSelector": {"matchLabels": {"team": "db"}}, "securityGroups": {"groupIds": ["{{{RdsSg}}}"]}}""";

    [Fact]
    public async Task Without_a_policy_that_selects_by_service_account_no_service_account_is_listed_or_watched()
    {
        await using var world = await AgentWorld.CreateAsync();
        await world.Kube.CreateServiceAccountAsync("app", "db-sa", "team=db");
        await world.Kube.CreateSgpAsync("app", "by-pod", $$$"""{"podSelector": {"matchLabels": {"role": "green"}}, "securityGroups": {"groupIds": ["{{{GreenSg}}}"]}}""");
        await using var run = await ProxiedAgent.StartAsync(world);

        var green = Uid(await world.Kube.CreatePodAsync("app", "green", AgentWorld.NodeName, "role=green", serviceAccount: "db-sa"));
        var plain = Uid(await world.Kube.CreatePodAsync("other", "plain", AgentWorld.NodeName, "role=red", serviceAccount: "db-sa"));
        await AgentWorld.EventuallyAsync(() => world.Kube.PodEniAnnotationAsync("app", "green"), Wait, "green annotated");
        await AgentWorld.EventuallyAsync(() => Task.FromResult(run.Agent.Records.ReadDecision(plain) is not null), Wait, "plain decided");

        Assert.True(run.Agent.Records.ReadDecision(green)!.Branch);
        Assert.False(run.Agent.Records.ReadDecision(plain)!.Branch);
        Assert.Empty(run.Agent.Cluster!.ServiceAccounts.Namespaces);
        Assert.Contains(run.Proxy.Requests, r => r.PathAndQuery.StartsWith("/api/v1/pods?", StringComparison.Ordinal));
        Assert.DoesNotContain(run.Proxy.Requests, r => r.PathAndQuery.Contains("serviceaccounts", StringComparison.Ordinal));
    }

    /// <summary>Only the namespace that needs it is watched, the decision comes from the account's labels, and the
    /// watch stops (after its grace) when the policy that needed it is deleted.</summary>
    [Fact]
    public async Task A_policy_selecting_by_service_account_opens_a_watch_of_that_namespace_only_until_it_is_deleted()
    {
        await using var world = await AgentWorld.CreateAsync();
        await world.Kube.CreateServiceAccountAsync("app", "db-sa", "team=db");
        await world.Kube.CreateServiceAccountAsync("other", "db-sa", "team=db");
        await world.Kube.CreateSgpAsync("app", "by-account", ByAccount);
        await using var run = await ProxiedAgent.StartAsync(world);

        var worker = Uid(await world.Kube.CreatePodAsync("app", "worker", AgentWorld.NodeName, "role=worker", serviceAccount: "db-sa"));
        var plain = Uid(await world.Kube.CreatePodAsync("app", "plain", AgentWorld.NodeName, "role=worker"));
        var elsewhere = Uid(await world.Kube.CreatePodAsync("other", "worker", AgentWorld.NodeName, "role=worker", serviceAccount: "db-sa"));
        var annotation = await AgentWorld.EventuallyAsync(() => world.Kube.PodEniAnnotationAsync("app", "worker"), Wait, "worker annotated");
        await AgentWorld.EventuallyAsync(() => Task.FromResult(run.Agent.Records.ReadDecision(plain) is not null && run.Agent.Records.ReadDecision(elsewhere) is not null), Wait, "all decided");

        Assert.Equal((true, "SecurityGroupPolicy by-account selects it"), (run.Agent.Records.ReadDecision(worker)!.Branch!.Value, run.Agent.Records.ReadDecision(worker)!.Reason));
        Assert.Equal([RdsSg], world.Sandbox.Host.Admin.Snapshot().NetworkInterfaces.Single(e => e.Id == BranchEniParser.ParseAnnotation(annotation).EniId).GroupIds);
        Assert.False(run.Agent.Records.ReadDecision(plain)!.Branch);
        Assert.False(run.Agent.Records.ReadDecision(elsewhere)!.Branch);
        Assert.Equal(["app"], run.Agent.Cluster!.ServiceAccounts.Namespaces);
        var accountRequests = run.Proxy.Requests.Where(r => r.PathAndQuery.Contains("serviceaccounts", StringComparison.Ordinal)).Select(r => r.PathAndQuery).ToList();
        Assert.Contains(accountRequests, p => p.StartsWith("/api/v1/namespaces/app/serviceaccounts?limit=", StringComparison.Ordinal));
        Assert.Contains(accountRequests, p => p.StartsWith("/api/v1/namespaces/app/serviceaccounts?watch=true", StringComparison.Ordinal));
        Assert.All(accountRequests, p => Assert.StartsWith("/api/v1/namespaces/app/serviceaccounts?", p, StringComparison.Ordinal));

        await world.Kube.DeleteSgpAsync("app", "by-account");
        await AgentWorld.EventuallyAsync(() => Task.FromResult(run.Agent.Cluster.ServiceAccounts.Namespaces.Count == 0), Wait, "the watch of app stopped");
        Assert.Contains(world.LogSink.Lines, l => l.Contains("Stopped watching service accounts of namespace app", StringComparison.Ordinal));
    }

    /// <summary>The API server is slow to list one namespace's accounts: the agent becomes ready and decides pods
    /// elsewhere, but that namespace's pods have no decision (the CNI waits or asks the API; it never delegates
    /// them) until the list arrives, and then they are decided from the accounts' labels.</summary>
    [Fact]
    public async Task Pods_of_a_namespace_whose_accounts_are_not_synced_get_no_decision_until_they_are()
    {
        await using var world = await AgentWorld.CreateAsync();
        await world.Kube.CreateServiceAccountAsync("app", "db-sa", "team=db");
        await world.Kube.CreateSgpAsync("app", "by-account", ByAccount);
        await using var run = await ProxiedAgent.StartAsync(world, hold: p => p.StartsWith("/api/v1/namespaces/app/serviceaccounts", StringComparison.Ordinal));

        var worker = Uid(await world.Kube.CreatePodAsync("app", "worker", AgentWorld.NodeName, "role=worker", serviceAccount: "db-sa"));
        var plain = Uid(await world.Kube.CreatePodAsync("app", "plain", AgentWorld.NodeName, "role=worker"));
        var elsewhere = Uid(await world.Kube.CreatePodAsync("other", "worker", AgentWorld.NodeName, "role=worker"));
        await AgentWorld.EventuallyAsync(() => Task.FromResult(run.Agent.NotReadyReason is null or "trunk link not found on the node yet"), Wait, "agent past its informers' sync");
        await AgentWorld.EventuallyAsync(() => Task.FromResult(run.Agent.Records.ReadDecision(elsewhere) is not null), Wait, "the pod of the other namespace decided");
        await AgentWorld.EventuallyAsync(() => Task.FromResult(run.Proxy.Requests.Any(r => r.PathAndQuery.StartsWith("/api/v1/namespaces/app/serviceaccounts", StringComparison.Ordinal))), Wait, "the list of app's accounts asked for");

        Assert.False(run.Agent.Cluster!.ServiceAccounts.IsSynced("app"));
        Assert.Null(run.Agent.Records.ReadDecision(worker));
        Assert.Null(run.Agent.Records.ReadDecision(plain));
        Assert.Null(await world.Kube.PodEniAnnotationAsync("app", "worker"));

        run.Proxy.Release();
        await AgentWorld.EventuallyAsync(() => world.Kube.PodEniAnnotationAsync("app", "worker"), Wait, "worker annotated once app's accounts synced");
        await AgentWorld.EventuallyAsync(() => Task.FromResult(run.Agent.Records.ReadDecision(plain) is not null), Wait, "plain decided");
        Assert.True(run.Agent.Records.ReadDecision(worker)!.Branch);
        Assert.False(run.Agent.Records.ReadDecision(plain)!.Branch);
    }

    /// <summary>As before per-namespace watches: a pod not provisioned yet is matched again when its account's labels
    /// change.</summary>
    [Fact]
    public async Task A_label_change_on_an_account_rematches_the_pods_that_have_no_branch_yet()
    {
        await using var world = await AgentWorld.CreateAsync();
        await world.Kube.CreateServiceAccountAsync("app", "late-sa", "team=web");
        await world.Kube.CreateSgpAsync("app", "by-account", ByAccount);
        await using var run = await ProxiedAgent.StartAsync(world);
        var late = Uid(await world.Kube.CreatePodAsync("app", "late", AgentWorld.NodeName, "role=worker", serviceAccount: "late-sa"));
        await AgentWorld.EventuallyAsync(() => Task.FromResult(run.Agent.Records.ReadDecision(late) is not null), Wait, "late decided");
        Assert.False(run.Agent.Records.ReadDecision(late)!.Branch);

        await world.Kube.PatchServiceAccountAsync("app", "late-sa", """{"metadata": {"labels": {"team": "db"}}}""");

        await AgentWorld.EventuallyAsync(() => world.Kube.PodEniAnnotationAsync("app", "late"), Wait, "late annotated after its account's label change");
        Assert.Equal((true, "SecurityGroupPolicy by-account selects it"), (run.Agent.Records.ReadDecision(late)!.Branch!.Value, run.Agent.Records.ReadDecision(late)!.Reason));
    }

    private static string Uid(JsonNode pod) => pod["metadata"]!["uid"]!.GetValue<string>();

    /// <summary>An agent whose API server is the recording proxy; disposed agent first, then the proxy (a proxy stopped
    /// under open watches would wait for them).</summary>
    private sealed class ProxiedAgent : IAsyncDisposable
    {
        private readonly AgentWorld _world;

        private ProxiedAgent(AgentWorld world, Agent agent, RecordingProxy proxy)
        {
            _world = world;
            Agent = agent;
            Proxy = proxy;
        }

        public Agent Agent { get; }

        public RecordingProxy Proxy { get; }

        public static async Task<ProxiedAgent> StartAsync(AgentWorld world, Func<string, bool>? hold = null)
        {
            var proxy = await RecordingProxy.StartAsync(world.Sandbox.Host.Endpoints.Kubernetes);
            proxy.Hold = hold ?? (_ => false);
            var kubeconfig = Path.Combine(world.Sandbox.StateDir, "agent-through-proxy.kubeconfig");
            var origin = world.Sandbox.Host.Endpoints.Kubernetes.GetLeftPart(UriPartial.Authority);
            await File.WriteAllTextAsync(kubeconfig, world.Sandbox.Host.Kubeconfig().Replace(origin, proxy.Address.GetLeftPart(UriPartial.Authority), StringComparison.Ordinal));
            var agent = world.StartAgent(world.Options with { Kubeconfig = kubeconfig, ServiceAccountWatchGrace = TimeSpan.FromMilliseconds(200) });
            return new ProxiedAgent(world, agent, proxy);
        }

        public async ValueTask DisposeAsync()
        {
            Proxy.Release();
            await _world.StopAgentAsync(Agent);
            await Proxy.DisposeAsync();
        }
    }
}
