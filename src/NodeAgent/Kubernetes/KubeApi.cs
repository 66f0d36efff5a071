using System.Net;
using System.Text.Json;
using BranchEni.Kube;
using k8s;
using k8s.Models;

namespace BranchEni.Agent.Kubernetes;

/// <summary>
/// The agent's typed Kubernetes calls (patches, events, reads) over the shared <see cref="KubeConnection"/>, whose raw
/// requests also feed the informers (DESIGN.md §5).
/// </summary>
internal sealed class KubeApi(KubeConnection connection) : IDisposable
{
    public KubeApi(IKubernetes client)
        : this(new KubeConnection(client))
    {
    }

    public KubeConnection Connection { get; } = connection;

    public IKubernetes Client => Connection.Client;

    public static KubeApi Connect(string? kubeconfig) => new(KubeConnection.Connect(kubeconfig));

    /// <summary>Merge-patches the pod's annotation. The patch carries the pod's uid, so the API server refuses it
    /// (409) when the name now belongs to another pod.</summary>
    public Task PatchPodAnnotationAsync(string ns, string name, string uid, string key, string value, CancellationToken ct)
    {
        // Under AOT V1Patch takes only a string body, serialized through a source-generated type.
        var json = JsonSerializer.Serialize(new PodAnnotationPatch(new PodAnnotationPatchMetadata(uid, new() { [key] = value })),
            KubeJsonContext.Default.PodAnnotationPatch);
        return WithDeadline(c => Client.CoreV1.PatchNamespacedPodAsync(new V1Patch(json, V1Patch.PatchType.MergePatch), name, ns, cancellationToken: c), ct);
    }

    /// <summary>Merge-patches the pod's labels (null removes one), with the same uid precondition.</summary>
    public Task PatchPodLabelsAsync(string ns, string name, string uid, Dictionary<string, string?> labels, CancellationToken ct)
    {
        var json = JsonSerializer.Serialize(new PodLabelPatch(new PodLabelPatchMetadata(uid, labels)), KubeJsonContext.Default.PodLabelPatch);
        return WithDeadline(c => Client.CoreV1.PatchNamespacedPodAsync(new V1Patch(json, V1Patch.PatchType.MergePatch), name, ns, cancellationToken: c), ct);
    }

    public Task PatchNodeCapacityAsync(string node, string resource, string quantity, CancellationToken ct)
    {
        var json = JsonSerializer.Serialize(new Dictionary<string, Dictionary<string, Dictionary<string, string>>>
        {
            ["status"] = new() { ["capacity"] = new() { [resource] = quantity } },
        }, KubeJsonContext.Default.DictionaryStringDictionaryStringDictionaryStringString);
        return WithDeadline(c => Client.CoreV1.PatchNodeStatusAsync(new V1Patch(json, V1Patch.PatchType.MergePatch), node, cancellationToken: c), ct);
    }

    public Task PatchNodeLabelAsync(string node, string key, string value, CancellationToken ct)
    {
        var json = JsonSerializer.Serialize(new Dictionary<string, Dictionary<string, Dictionary<string, string>>>
        {
            ["metadata"] = new() { ["labels"] = new() { [key] = value } },
        }, KubeJsonContext.Default.DictionaryStringDictionaryStringDictionaryStringString);
        return WithDeadline(c => Client.CoreV1.PatchNodeAsync(new V1Patch(json, V1Patch.PatchType.MergePatch), node, cancellationToken: c), ct);
    }

    /// <summary>Creates a core/v1 Event about an object.</summary>
    public Task CreateEventAsync(V1ObjectReference about, string type, string reason, string message, CancellationToken ct)
    {
        var e = KubeEvents.New(about, type, reason, message, "branch-eni-agent");
        var ns = e.Metadata.NamespaceProperty;
        return WithDeadline(c => Client.CoreV1.CreateNamespacedEventAsync(e, ns, cancellationToken: c), ct);
    }

    private Task<T> WithDeadline<T>(Func<CancellationToken, Task<T>> call, CancellationToken ct) => Connection.WithDeadline(call, ct);

    public static bool IsStatus(Exception e, HttpStatusCode status) => KubeConnection.IsStatus(e, status);

    public void Dispose() => Connection.Dispose();
}
