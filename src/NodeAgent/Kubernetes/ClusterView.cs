using System.Collections.Concurrent;
using BranchEni.Agent.Branches;
using BranchEni.Kube;
using BranchEni.Policy;
using Serilog;

namespace BranchEni.Agent.Kubernetes;

/// <summary>The informers the agent runs (this node's pods, SecurityGroupPolicies, this node, and the service accounts
/// of the namespaces whose policies select by them and where this node has pods) and the lookups the reconciler needs,
/// pods by UID.</summary>
internal sealed class ClusterView : IClusterView
{
    private readonly ConcurrentDictionary<string, PodView> _podsByUid = new(StringComparer.Ordinal);

    public ClusterView(KubeApi kube, string nodeName, TimeSpan idleTimeout, ILogger log, TimeSpan? serviceAccountGrace = null)
    {
        var api = kube.Connection;
        var node = Uri.EscapeDataString(nodeName);
        Pods = new Informer<PodView>(api, new("pods", "/api/v1/pods", $"fieldSelector=spec.nodeName%3D{node}", PodView.Parse), log) { IdleTimeout = idleTimeout };
        PolicyInformer = new Informer<SecurityGroupPolicy>(api,
            new("securitygrouppolicies", $"/apis/{SecurityGroupPolicy.Group}/{SecurityGroupPolicy.Version}/{SecurityGroupPolicy.Plural}", "", SecurityGroupPolicy.Parse), log)
        { IdleTimeout = idleTimeout };
        ServiceAccounts = new ServiceAccountWatches(api, NamespacesNeedingServiceAccounts, idleTimeout, serviceAccountGrace ?? TimeSpan.FromSeconds(30), log);
        Node = new Informer<NodeView>(api, new("nodes", "/api/v1/nodes", $"fieldSelector=metadata.name%3D{node}", NodeView.Parse), log) { IdleTimeout = idleTimeout };
        Pods.Changed += (old, current) =>
        {
            if (old is not null && (current is null || current.Uid != old.Uid))
            {
                _podsByUid.TryRemove(old.Uid, out _);
            }

            if (current is not null)
            {
                _podsByUid[current.Uid] = current;
            }

            // Registered before the agent's handlers, so a pod's namespace watch exists before the pod is decided.
            ServiceAccounts.Update();
        };
        PolicyInformer.Changed += (_, _) => ServiceAccounts.Update();
    }

    public Informer<PodView> Pods { get; }

    public Informer<SecurityGroupPolicy> PolicyInformer { get; }

    public ServiceAccountWatches ServiceAccounts { get; }

    public Informer<NodeView> Node { get; }

    public IEnumerable<SecurityGroupPolicy> Policies => PolicyInformer.Items;

    public PodView? Pod(string uid) => _podsByUid.TryGetValue(uid, out var pod) ? pod : null;

    public IEnumerable<PodView> AllPods => _podsByUid.Values;

    public bool TryServiceAccount(string ns, string name, out ServiceAccountView? account) => ServiceAccounts.TryGet(ns, name, out account);

    /// <summary>Pods, policies and the node. A namespace's service accounts still syncing do not hold the agent back:
    /// only that namespace's pods wait (their decision is deferred, never "no branch").</summary>
    public bool Synced => Pods.IsSynced && PolicyInformer.IsSynced && Node.IsSynced;

    public Task WhenSynced => Task.WhenAll(Pods.Synced, PolicyInformer.Synced, Node.Synced);

    public Task RunAsync(CancellationToken ct) =>
        Task.WhenAll(Pods.RunAsync(ct), PolicyInformer.RunAsync(ct), ServiceAccounts.RunAsync(ct), Node.RunAsync(ct));

    /// <summary>Namespaces where a valid policy selects by service account and this node has a pod that may need a
    /// decision (not finished, not on the host's network).</summary>
    private IReadOnlySet<string> NamespacesNeedingServiceAccounts()
    {
        var selecting = SecurityGroupMatcher.NamespacesSelectingByServiceAccount(PolicyInformer.Items);
        if (selecting.Count == 0)
        {
            return selecting;
        }

        return _podsByUid.Values.Where(p => !p.Finished && !p.HostNetwork && selecting.Contains(p.Namespace))
            .Select(p => p.Namespace).ToHashSet(StringComparer.Ordinal);
    }
}
