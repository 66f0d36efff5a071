using System.Collections.Concurrent;
using BranchEni.Agent.Branches;
using BranchEni.Kube;
using BranchEni.Policy;
using Serilog;

namespace BranchEni.Agent.Kubernetes;

/// <summary>The informers the agent runs (this node's pods, SecurityGroupPolicies, service accounts, this node) and
/// the lookups the reconciler needs, pods by UID.</summary>
internal sealed class ClusterView : IClusterView
{
    private readonly ConcurrentDictionary<string, PodView> _podsByUid = new(StringComparer.Ordinal);

    public ClusterView(KubeApi kube, string nodeName, TimeSpan idleTimeout, ILogger log)
    {
        var api = kube.Connection;
        var node = Uri.EscapeDataString(nodeName);
        Pods = new Informer<PodView>(api, new("pods", "/api/v1/pods", $"fieldSelector=spec.nodeName%3D{node}", PodView.Parse), log) { IdleTimeout = idleTimeout };
        PolicyInformer = new Informer<SecurityGroupPolicy>(api,
            new("securitygrouppolicies", $"/apis/{SecurityGroupPolicy.Group}/{SecurityGroupPolicy.Version}/{SecurityGroupPolicy.Plural}", "", SecurityGroupPolicy.Parse), log)
        { IdleTimeout = idleTimeout };
        ServiceAccounts = new Informer<ServiceAccountView>(api, new("serviceaccounts", "/api/v1/serviceaccounts", "", ServiceAccountView.Parse), log) { IdleTimeout = idleTimeout };
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
        };
    }

    public Informer<PodView> Pods { get; }

    public Informer<SecurityGroupPolicy> PolicyInformer { get; }

    public Informer<ServiceAccountView> ServiceAccounts { get; }

    public Informer<NodeView> Node { get; }

    public IEnumerable<SecurityGroupPolicy> Policies => PolicyInformer.Items;

    public PodView? Pod(string uid) => _podsByUid.TryGetValue(uid, out var pod) ? pod : null;

    public IEnumerable<PodView> AllPods => _podsByUid.Values;

    public ServiceAccountView? ServiceAccount(string ns, string name) => ServiceAccounts.Get($"{ns}/{name}");

    public bool Synced => Pods.IsSynced && PolicyInformer.IsSynced && ServiceAccounts.IsSynced && Node.IsSynced;

    public Task WhenSynced => Task.WhenAll(Pods.Synced, PolicyInformer.Synced, ServiceAccounts.Synced, Node.Synced);

    public Task RunAsync(CancellationToken ct) =>
        Task.WhenAll(Pods.RunAsync(ct), PolicyInformer.RunAsync(ct), ServiceAccounts.RunAsync(ct), Node.RunAsync(ct));
}
