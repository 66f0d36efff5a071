using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Serialization;
using BranchEni.Cni.Protocol;
using BranchEni.Cni.Selection;
using k8s;

namespace BranchEni.Cni.KubeReader;

/// <summary>
/// Reads a pod (GET /api/v1/namespaces/NS/pods/NAME) with the configured kubeconfig. KubernetesClient parses the
/// kubeconfig (contexts, certificates, tokens); the request itself is one HttpClient GET decoded into the few fields
/// we need, because the generated `Kubernetes` client roots every API operation and model into the native binary,
/// and native AOT pays for that on every start (VERSION went from ~3 ms to ~12 ms).
/// </summary>
internal sealed class KubernetesPodReader : IDisposable
{
    private const string Resource = "vpc.amazonaws.com/pod-eni";

    private readonly KubernetesClientConfiguration config;
    private readonly HttpClient http;

    public KubernetesPodReader(string kubeconfig)
    {
        try
        {
            config = KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig);
        }
        catch (Exception e) when (e is IOException or k8s.Exceptions.KubeConfigException or UnauthorizedAccessException or ArgumentException)
        {
            throw new CniException(CniErrorCode.InvalidNetworkConfig, $"network configuration field kubeconfig {kubeconfig} cannot be used", e.Message);
        }

        http = new HttpClient(CreateHandler(config), disposeHandler: true) { Timeout = TimeSpan.FromSeconds(10) };
    }

    public PodFacts Read(string podNamespace, string podName)
    {
        var uri = new Uri(new Uri(config.Host.TrimEnd('/') + "/"), $"api/v1/namespaces/{podNamespace}/pods/{podName}");
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, uri);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            Authorize(request);
            using var response = http.Send(request);
            if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
            {
                throw new CniException(CniErrorCode.UnknownContainer, $"pod {podNamespace}/{podName} does not exist in the API");
            }

            if (!response.IsSuccessStatusCode)
            {
                throw new CniException(CniErrorCode.TryAgainLater, $"reading pod {podNamespace}/{podName} from the API answered {(int)response.StatusCode}");
            }

            using var body = response.Content.ReadAsStream();
            var pod = JsonSerializer.Deserialize(body, PodJsonContext.Default.PodView)
                ?? throw new CniException(CniErrorCode.ApiFailure, $"the API returned no pod {podNamespace}/{podName}");
            string? annotation = null;
            pod.Metadata?.Annotations?.TryGetValue(Resource, out annotation);
            var requests = pod.Spec?.Containers?.Any(c =>
                (c?.Resources?.Requests?.ContainsKey(Resource) ?? false) || (c?.Resources?.Limits?.ContainsKey(Resource) ?? false)) ?? false;
            return new PodFacts(pod.Metadata?.Uid, annotation, requests);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
        {
            throw new CniException(CniErrorCode.TryAgainLater, $"cannot read pod {podNamespace}/{podName} from the API at {config.Host}", e.Message);
        }
        catch (JsonException e)
        {
            throw new CniException(CniErrorCode.ApiFailure, $"the API's pod {podNamespace}/{podName} does not decode", e.Message);
        }
    }

    public void Dispose() => http.Dispose();

    private void Authorize(HttpRequestMessage request)
    {
        if (config.AccessToken is { Length: > 0 } token)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        else if (config.Username is { Length: > 0 } user)
        {
            var basic = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{user}:{config.Password}"));
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", basic);
        }
    }

    private static SocketsHttpHandler CreateHandler(KubernetesClientConfiguration config)
    {
        var handler = new SocketsHttpHandler();
        var cas = config.SslCaCerts;
        if (config.SkipTlsVerify)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        }
        else if (cas is { Count: > 0 })
        {
            // The cluster CA from the kubeconfig is the only trust anchor for the API server.
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
            {
                if (certificate is null)
                {
                    return false;
                }

                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.AddRange(cas);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(new X509Certificate2(certificate));
            };
        }

        if (config.ClientCertificateData is { Length: > 0 } certData && config.ClientCertificateKeyData is { Length: > 0 } keyData)
        {
            var pem = X509Certificate2.CreateFromPem(
                System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(certData)),
                System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(keyData)));
            handler.SslOptions.ClientCertificates = [pem];
        }
        else if (config.ClientCertificateFilePath is { Length: > 0 } certFile && config.ClientKeyFilePath is { Length: > 0 } keyFile)
        {
            handler.SslOptions.ClientCertificates = [X509Certificate2.CreateFromPemFile(certFile, keyFile)];
        }

        return handler;
    }
}

/// <summary>The parts of a v1 Pod the selector reads.</summary>
internal sealed record PodView(
    [property: JsonPropertyName("metadata")] PodMetadataView? Metadata,
    [property: JsonPropertyName("spec")] PodSpecView? Spec);

internal sealed record PodMetadataView(
    [property: JsonPropertyName("uid")] string? Uid,
    [property: JsonPropertyName("annotations")] Dictionary<string, string>? Annotations);

internal sealed record PodSpecView([property: JsonPropertyName("containers")] List<ContainerView?>? Containers);

internal sealed record ContainerView([property: JsonPropertyName("resources")] ResourcesView? Resources);

internal sealed record ResourcesView(
    [property: JsonPropertyName("requests")] Dictionary<string, JsonElement>? Requests,
    [property: JsonPropertyName("limits")] Dictionary<string, JsonElement>? Limits);

[JsonSerializable(typeof(PodView))]
internal sealed partial class PodJsonContext : JsonSerializerContext;
