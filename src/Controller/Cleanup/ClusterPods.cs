using System.Text.Json;
using BranchEni.Kube;
using Serilog;

namespace BranchEni.Controller.Cleanup;

/// <summary>
/// Every pod's UID in the cluster, from a cluster-wide pod informer that keeps nothing else (a pod is a few dozen
/// bytes here, not its spec), so the cleanup can tell "this branch's pod is gone everywhere" from "not yet seen".
/// Runs on every replica, like the other caches, so a new leader starts from a full cache.
/// </summary>
internal sealed class ClusterPods(KubeConnection kube, TimeSpan watchIdleTimeout, ILogger log)
{
    private readonly Informer<PodUid> _pods = new(kube, new("pods", "/api/v1/pods", "", Parse), log) { IdleTimeout = watchIdleTimeout };

    public bool IsSynced => _pods.IsSynced;

    public Task Synced => _pods.Synced;

    /// <summary>The UIDs of every pod the cache holds, or null while it has not listed yet (nothing can be called gone).</summary>
    public IReadOnlySet<string>? Uids() => _pods.IsSynced ? _pods.Items.Select(p => p.Uid).ToHashSet(StringComparer.Ordinal) : null;

    public Task RunAsync(CancellationToken ct) => _pods.RunAsync(ct);

    private static PodUid Parse(JsonElement pod) =>
        pod.GetProperty("metadata").TryGetProperty("uid", out var uid) && uid.GetString() is { Length: > 0 } value
            ? new PodUid(value)
            : throw new JsonException("pod without metadata.uid");

    private sealed record PodUid(string Uid);
}
