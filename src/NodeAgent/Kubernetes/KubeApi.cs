using System.Net;
using System.Text.Json;
using k8s;
using k8s.Authentication;
using k8s.Autorest;
using k8s.Models;

namespace BranchEni.Agent.Kubernetes;

/// <summary>
/// The agent's Kubernetes calls through KubernetesClient.Aot: typed calls for patches, events and reads; raw
/// requests (the client's own handler and credentials) for list pages and watches, which the AOT client cannot
/// stream (DESIGN.md §5).
/// </summary>
internal sealed class KubeApi : IDisposable
{
    private readonly HttpClient _stream;

    public KubeApi(IKubernetes client)
    {
        Client = client;
        var concrete = (k8s.Kubernetes)client;

        // Watches outlive any fixed request timeout: the client is built without one (Connect) and every typed call
        // below gets its own deadline instead.
        _stream = concrete.HttpClient;
        BaseUri = concrete.BaseUri;
        Credentials = concrete.Credentials;
    }

    public IKubernetes Client { get; }

    private Uri BaseUri { get; }

    private ServiceClientCredentials? Credentials { get; }

    public static KubeApi Connect(string? kubeconfig)
    {
        var config = kubeconfig is not null
            ? KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig)
            : KubernetesClientConfiguration.InClusterConfig();
        config.HttpClientTimeout = Timeout.InfiniteTimeSpan;
        return new KubeApi(new k8s.Kubernetes(config));
    }

    /// <summary>Sends a GET for a path+query relative to the API server, headers read only.</summary>
    public async Task<HttpResponseMessage> GetAsync(string pathAndQuery, CancellationToken ct)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri(BaseUri, pathAndQuery));
        if (Credentials is not null)
        {
            await Credentials.ProcessHttpRequestAsync(request, ct).ConfigureAwait(false);
        }

        try
        {
            return await _stream.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
        }
        finally
        {
            request.Dispose();
        }
    }

    /// <summary>Merge-patches the pod's annotation. The patch carries the pod's uid, so the API server refuses it
    /// (409) when the name now belongs to another pod.</summary>
    public Task PatchPodAnnotationAsync(string ns, string name, string uid, string key, string value, CancellationToken ct)
    {
        // Under AOT V1Patch takes only a string body, serialized through a source-generated type.
        var json = JsonSerializer.Serialize(new PodAnnotationPatch(new PodAnnotationPatchMetadata(uid, new() { [key] = value })),
            KubeJsonContext.Default.PodAnnotationPatch);
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

    public Task<V1Node> ReadNodeAsync(string node, CancellationToken ct) => WithDeadline(c => Client.CoreV1.ReadNodeAsync(node, cancellationToken: c), ct);

    /// <summary>Creates a core/v1 Event about an object.</summary>
    public Task CreateEventAsync(V1ObjectReference about, string type, string reason, string message, CancellationToken ct)
    {
        var now = DateTime.UtcNow;
        var ns = about.NamespaceProperty ?? "default";
        var suffix = Convert.ToHexStringLower(BitConverter.GetBytes(now.Ticks ^ Random.Shared.NextInt64()));
        var e = new Corev1Event
        {
            Metadata = new V1ObjectMeta { Name = $"{about.Name}.{suffix}", NamespaceProperty = ns },
            InvolvedObject = about,
            Type = type,
            Reason = reason,
            Message = message,
            Source = new V1EventSource { Component = "branch-eni-agent" },
            ReportingComponent = "branch-eni-agent",
            ReportingInstance = Environment.MachineName,
            FirstTimestamp = now,
            LastTimestamp = now,
            Count = 1,
        };
        return WithDeadline(c => Client.CoreV1.CreateNamespacedEventAsync(e, ns, cancellationToken: c), ct);
    }

    /// <summary>Runs a typed call with a deadline (the shared HttpClient has none, for the watches).</summary>
    private async Task<T> WithDeadline<T>(Func<CancellationToken, Task<T>> call, CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(RequestTimeout);
        return await call(deadline.Token).ConfigureAwait(false);
    }

    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public static bool IsStatus(Exception e, HttpStatusCode status) =>
        e is HttpOperationException { Response.StatusCode: var code } && code == status;

    public void Dispose() => Client.Dispose();
}
