using System.Net;
using k8s;
using k8s.Authentication;
using k8s.Autorest;

namespace BranchEni.Kube;

/// <summary>
/// One connection to the API server through KubernetesClient.Aot: the typed client for ordinary calls, and raw
/// requests (the client's own handler and credentials) for list pages and watches, which the AOT client cannot stream
/// (DESIGN.md §5). The HTTP client has no timeout, for the watches; typed calls take theirs from <see cref="WithDeadline"/>.
/// </summary>
public sealed class KubeConnection : IDisposable
{
    private readonly HttpClient _stream;
    private readonly Uri _baseUri;
    private readonly ServiceClientCredentials? _credentials;

    public KubeConnection(IKubernetes client)
    {
        ArgumentNullException.ThrowIfNull(client);
        Client = client;
        var concrete = (k8s.Kubernetes)client;
        _stream = concrete.HttpClient;
        _baseUri = concrete.BaseUri;
        _credentials = concrete.Credentials;
    }

    public IKubernetes Client { get; }

    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>From a kubeconfig file, else the in-cluster service account.</summary>
    public static KubeConnection Connect(string? kubeconfig)
    {
        var config = kubeconfig is not null
            ? KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig)
            : KubernetesClientConfiguration.InClusterConfig();
        config.HttpClientTimeout = Timeout.InfiniteTimeSpan;
        return new KubeConnection(new k8s.Kubernetes(config));
    }

    /// <summary>Sends a GET for a path+query relative to the API server, headers read only.</summary>
    public async Task<HttpResponseMessage> GetAsync(string pathAndQuery, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_baseUri, pathAndQuery));
        if (_credentials is not null)
        {
            await _credentials.ProcessHttpRequestAsync(request, ct).ConfigureAwait(false);
        }

        return await _stream.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
    }

    /// <summary>Runs a typed call with a deadline (the shared HttpClient has none, for the watches).</summary>
    public async Task<T> WithDeadline<T>(Func<CancellationToken, Task<T>> call, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(call);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(RequestTimeout);
        return await call(deadline.Token).ConfigureAwait(false);
    }

    /// <summary>Whether a typed call failed with this HTTP status (404, 409, ...).</summary>
    public static bool IsStatus(Exception e, HttpStatusCode status) =>
        e is HttpOperationException { Response.StatusCode: var code } && code == status;

    public void Dispose() => Client.Dispose();
}
