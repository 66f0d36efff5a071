using Amazon.EC2;
using BranchEni.Agent.Branches;
using BranchEni.Agent.Configuration;
using BranchEni.Agent.Ec2;
using BranchEni.Agent.Kubernetes;
using BranchEni.Agent.Node;
using BranchEni.Agent.Observability;
using BranchEni.Contracts;
using BranchEni.Kube;
using Serilog;

namespace BranchEni.Agent;

/// <summary>The clients the agent talks through; tests build them against the sandbox, `run` from the options.</summary>
internal sealed record AgentClients(Func<string, IAmazonEC2> Ec2ForRegion, KubeApi Kube, HttpClient Imds);

/// <summary>
/// The daemon: identity → trunk → node preparation → rebuild from tags → informers → workers, garbage collection and
/// the node's capacity, then (once ready) the CNI install. Trouble with EC2 or the API server is retried with backoff
/// and reported; it never ends the process (no crash loop). Cancellation stops watches and new work at once and lets
/// in-flight EC2 operations finish for <see cref="ShutdownGrace"/>.
/// </summary>
internal sealed partial class Agent(AgentOptions options, AgentClients clients, ILogger log)
{
    private volatile string? _notReady = "starting";
    private volatile bool _loopsAlive = true;

    public AgentMetrics Metrics { get; } = new();

    public NodeRecords Records { get; } = new(options.StateDir);

    internal DecisionRecords Decisions => field ??= new DecisionRecords(Records);

    public TimeSpan ShutdownGrace { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Set once the trunk is known (null for non-trunking types and ENABLE_POD_ENI=false).</summary>
    public BranchTable? Table { get; private set; }

    public Trunk? Trunk { get; private set; }

    /// <summary>Set once the trunk is known, with the reconciler it serves.</summary>
    public PodPublisher? Publisher { get; private set; }

    public string? NotReadyReason => _notReady;

    public bool Healthy => _loopsAlive;

    internal Inventory? Inventory { get; private set; }

    internal ClusterView? Cluster { get; private set; }

    private EventSink Events => field ??= new EventSink(clients.Kube, log);

    private PodRules Rules => new(options.SgAnnotation, options.DefaultMetadataAccess);

    public async Task RunAsync(CancellationToken stop)
    {
        using var abort = new CancellationTokenSource();
        using var registration = stop.Register(() => abort.CancelAfter(ShutdownGrace));
        try
        {
            await RunCoreAsync(stop, abort.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            _loopsAlive = false;
            log.Fatal(e, "The agent stopped on an unexpected error");
            throw;
        }

        log.Information("Agent stopped");
    }

    private async Task RunCoreAsync(CancellationToken stop, CancellationToken abort)
    {
        if (!options.EnablePodEni)
        {
            log.Information("ENABLE_POD_ENI is not true: no trunk, no branch ENIs; the CNI delegates every pod no policy selects");
            var decisionsOnly = new ClusterView(clients.Kube, options.NodeName!, options.WatchIdleTimeout, log, options.ServiceAccountWatchGrace);
            Cluster = decisionsOnly;
            KeepDecisionsWithoutBranches(decisionsOnly, "ENABLE_POD_ENI is not true");
            var watching = decisionsOnly.RunAsync(stop);
            await decisionsOnly.WhenSynced.WaitAsync(stop).ConfigureAwait(false);
            await BecomeReadyAsync(stop).ConfigureAwait(false);
            await watching.ConfigureAwait(false);
            return;
        }

        var identity = await RetryAsync("read instance identity from IMDS",
            ct => new InstanceMetadataClient(clients.Imds, options.ImdsEndpoint).ReadIdentityAsync(ct), stop).ConfigureAwait(false);
        log.Information("Instance {InstanceId} ({InstanceType}) in {Region}, subnet {SubnetId}, VPC {VpcId}",
            identity.InstanceId, identity.InstanceType, identity.Region, identity.SubnetId, identity.VpcId);
        var limits = InstanceLimits.Load(options.InstanceLimitsFile);
        var limit = limits.Find(identity.InstanceType);
        var cluster = new ClusterView(clients.Kube, options.NodeName!, options.WatchIdleTimeout, log, options.ServiceAccountWatchGrace);
        Cluster = cluster;
        if (limit is not { SupportsTrunking: true })
        {
            await RunWithoutTrunkAsync(identity, limit is null, cluster, stop).ConfigureAwait(false);
            return;
        }

        var policy = new Ec2CallPolicy(options.Ec2Limits(), Metrics, log);
        Metrics.Ec2Rates = policy.Rates;
        var gateway = new Ec2Gateway(clients.Ec2ForRegion(identity.Region), policy);
        var trunk = await RetryAsync("find or create the trunk ENI",
            ct => new TrunkManager(gateway, identity, options.ClusterName!, log).EnsureAsync(limit, ct), stop).ConfigureAwait(false);
        Trunk = trunk;
        // Until the link is found the CNI finds the trunk by MAC itself; readiness waits for the link (PrepareNodeAsync).
        Records.WriteTrunk(new TrunkRecord(trunk.EniId, trunk.MacAddress, null));
        var nodePrepared = PrepareNodeAsync(trunk, identity, stop);

        var table = new BranchTable(new VlanAllocator(limit.Branches!.Value));
        Table = table;
        Metrics.BranchesInUse = () => table.Snapshot().Count(e => e.AssociationId is not null);
        Metrics.FreeVlans = () => table.Vlans.Free;
        var provisioner = new BranchProvisioner(gateway, table, trunk, identity.InstanceId, options.ClusterName!, log);
        Inventory = new Inventory(provisioner, table, Records, trunk, log);
        await RetryAsync("rebuild branch ENIs from tags", async ct =>
        {
            await Inventory.RebuildAsync(ct).ConfigureAwait(false);
            return true;
        }, stop).ConfigureAwait(false);

        var checker = new SecurityGroupChecker(gateway, identity.VpcId, options.MaxSecurityGroupsPerEni);
        await RunBranchesAsync(cluster, provisioner, checker, trunk, limit.Branches.Value, nodePrepared, stop, abort).ConfigureAwait(false);
    }

    private async Task RunBranchesAsync(ClusterView cluster, BranchProvisioner provisioner, SecurityGroupChecker checker, Trunk trunk, int capacity,
        Task nodePrepared, CancellationToken stop, CancellationToken abort)
    {
        var queue = new WorkQueue();
        var waiting = new WaitingPods(queue);
        Publisher = new PodPublisher(Records, trunk, clients.Kube, Events, Metrics, log);
        var reconciler = new PodReconciler(Table!, provisioner, Decisions, cluster, Publisher, waiting, Events, queue, options.Cooldown, Rules, checker, log);
        WireInformers(cluster, queue, reconciler, Publisher, waiting, stop);
        var informers = cluster.RunAsync(stop);
        _notReady = "informers not synced";
        await cluster.WhenSynced.WaitAsync(stop).ConfigureAwait(false);
        var node = new NodeStatusKeeper(clients.Kube, cluster.Node, options.NodeName!, capacity, trunkAttached: true, Events, log);
        var nodeLoop = node.RunAsync(stop);
        foreach (var entry in Table!.Snapshot())
        {
            queue.Enqueue(entry.PodUid);
        }

        foreach (var pod in cluster.AllPods)
        {
            queue.Enqueue(pod.Uid);
        }

        var workers = queue.RunAsync(options.Workers, reconciler.ReconcileAsync, stop, abort);
        var gc = CollectGarbageAsync(cluster, stop);
        var trimmer = new HeapTrimmer(() => queue.Idle, log).RunAsync(stop);
        _notReady = "trunk link not found on the node yet";
        await nodePrepared.ConfigureAwait(false);
        await BecomeReadyAsync(stop).ConfigureAwait(false);
        await Task.WhenAll(informers, nodeLoop, workers, gc, trimmer).ConfigureAwait(false);
    }

    private void WireInformers(ClusterView cluster, WorkQueue queue, PodReconciler reconciler, PodPublisher publisher, WaitingPods waiting,
        CancellationToken stop)
    {
        cluster.Pods.Changed += (old, current) =>
        {
            if (old is not null && old.Uid != current?.Uid)
            {
                queue.Enqueue(old.Uid);
            }

            if (current is not null)
            {
                publisher.Seen(current.Uid);
                // The decision is written here, not when a worker gets to the pod: in a burst the queue waits on EC2,
                // and kubelet must not find a pod undecided (the CNI would refuse it until the next retry).
                if (cluster.Synced)
                {
                    reconciler.RecordDecision(current);
                }

                queue.Enqueue(current.Uid);
            }
        };

        // New or changed policies and service accounts count for pods that have not started yet (running pods keep
        // what they got: DESIGN.md §2).
        void Rematch(object? _, object? __)
        {
            waiting.RetryAll();
            foreach (var pod in cluster.AllPods.Where(p => p.Phase is null or "Pending" && Table!.Get(p.Uid) is null))
            {
                queue.Enqueue(pod.Uid);
            }
        }

        cluster.PolicyInformer.Changed += (o, n) => Rematch(o, n);

        // A namespace's accounts synced (its deferred pods can now be decided) or one changed: its pods, as above.
        cluster.ServiceAccounts.Changed += ns =>
        {
            waiting.RetryAll();
            foreach (var pod in cluster.AllPods.Where(p => p.Namespace == ns && p.Phase is null or "Pending" && Table!.Get(p.Uid) is null))
            {
                queue.Enqueue(pod.Uid);
            }
        };
        cluster.PolicyInformer.Bad += (key, problem, _) =>
        {
            ReportBadPolicy(key, problem, stop);
        };
        cluster.Pods.Bad += (key, problem, _) => log.Warning("Pod {Pod} could not be read: {Problem}", key, problem);
    }

    private void ReportBadPolicy(string key, string problem, CancellationToken stop)
    {
        log.Warning("SecurityGroupPolicy {Policy} is invalid and ignored: {Problem}", key, problem);
        _ = Events.PolicyAsync(key, "InvalidSecurityGroupPolicy", $"ignored: {problem}", stop);
    }

    private async Task RunWithoutTrunkAsync(InstanceIdentity identity, bool unknown, ClusterView cluster, CancellationToken stop)
    {
        var why = unknown
            ? $"instance type {identity.InstanceType} is not in the instance limits table (add it with BRANCH_ENI_INSTANCE_LIMITS_FILE)"
            : $"instance type {identity.InstanceType} does not support ENI trunking";
        log.Warning("No branch ENIs on this node: {Reason}; pod-eni capacity is 0", why);
        KeepDecisionsWithoutBranches(cluster, why);
        var informers = cluster.RunAsync(stop);
        await cluster.Node.Synced.WaitAsync(stop).ConfigureAwait(false);
        await Events.NodeAsync(options.NodeName!, "Warning", "BranchEniUnsupported", $"{why}; vpc.amazonaws.com/pod-eni capacity is 0", stop).ConfigureAwait(false);
        var node = new NodeStatusKeeper(clients.Kube, cluster.Node, options.NodeName!, 0, trunkAttached: false, Events, log);
        var loop = node.RunAsync(stop);
        await BecomeReadyAsync(stop).ConfigureAwait(false);
        await Task.WhenAll(informers, loop).ConfigureAwait(false);
    }

    /// <summary>On a node without branch ENIs the CNI still learns from files which pods it may delegate: those no
    /// policy selects. The others are recorded as needing a branch, so the CNI refuses them (error 11) with the reason.</summary>
    private void KeepDecisionsWithoutBranches(ClusterView cluster, string why)
    {
        void Decide(PodView pod)
        {
            if (pod.HostNetwork || pod.Finished)
            {
                return;
            }

            // Undecidable until its namespace's service accounts sync: no record, so the CNI never delegates it meanwhile.
            if (cluster.Decide(pod, Rules) is { } decision)
            {
                Decisions.RecordWithoutBranches(pod, decision, why);
            }
            else
            {
                Decisions.Forget(pod.Uid);
            }
        }

        void All()
        {
            foreach (var pod in cluster.AllPods)
            {
                Decide(pod);
            }
        }

        cluster.Pods.Changed += (old, current) =>
        {
            if (old is not null && (current is null || current.Uid != old.Uid || current.Finished))
            {
                Decisions.Forget(old.Uid);
            }

            if (current is not null && cluster.Synced)
            {
                Decide(current);
            }
        };
        cluster.PolicyInformer.Changed += (_, _) => All();
        cluster.ServiceAccounts.Changed += ns =>
        {
            foreach (var pod in cluster.AllPods.Where(p => p.Namespace == ns))
            {
                Decide(pod);
            }
        };
        _ = cluster.WhenSynced.ContinueWith(_ =>
        {
            All();
            Decisions.Sweep(uid => cluster.Pod(uid) is not null);
        }, TaskScheduler.Default);
    }
}
