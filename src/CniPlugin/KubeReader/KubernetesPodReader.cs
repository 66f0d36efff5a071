using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using BranchEni.Cni.Protocol;
using BranchEni.Cni.Selection;
using BranchEni.Policy;
using k8s;

namespace BranchEni.Cni.KubeReader;

/// <summary>
/// Reads a pod (GET /api/v1/namespaces/NS/pods/NAME) and, when it has no annotation, the SecurityGroupPolicies of its
/// namespace (and its service account when a policy needs it) with the configured kubeconfig. KubernetesClient parses
/// the kubeconfig (contexts, certificates, tokens); the requests themselves are HttpClient GETs read as JsonDocuments, because the generated `Kubernetes` client roots every API operation and model into the native binary,
/// and native AOT pays for that on every start (VERSION went from ~3 ms to ~12 ms).
/// </summary>
internal sealed class KubernetesPodReader : IDisposable
{
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

    /// <summary>
    /// The pod's UID and pod-eni annotation and, when it has no annotation, whether it must have a branch ENI: the
    /// SecurityGroupPolicies of its namespace (and its service account's labels when a policy selects by them) go
    /// through the agent's own matcher (src/Policy), so this fallback decides exactly as the agent would.
    /// </summary>
    /// <remarks>It also gives the pod's metadata access by the agent's rule (<paramref name="defaultMetadataAccess"/> is the
    /// cluster's DEFAULT_POD_METADATA_ACCESS from the plugin config): a pod wired before the agent recorded its verdict
    /// must not reach IMDS where the agent would deny it.</remarks>
    public PodFacts Read(string podNamespace, string podName, MetadataAccess? defaultMetadataAccess = null)
    {
        var what = $"pod {podNamespace}/{podName}";
        using var pod = Get($"api/v1/namespaces/{podNamespace}/pods/{podName}", what)
            ?? throw new CniException(CniErrorCode.UnknownContainer, $"{what} does not exist in the API");
        var root = pod.RootElement;
        var metadata = Member(root, "metadata");
        var spec = Member(root, "spec");
        var uid = Text(metadata, "uid");
        var annotations = Labels(metadata, "annotations");
        var labels = Labels(metadata, "labels");
        var annotation = annotations.GetValueOrDefault(PodEni.AnnotationKey);
        if (annotation is { Length: > 0 })
        {
            // Placed by the Calico annotation as the agent would see it were the feature on everywhere: only a well-formed
            // annotation places a pod, and this reader cannot know the agent's switch, so it takes the stricter side.
            var placedByAnnotation = BranchDecision.For(new PolicyPod(podNamespace, labels, "default", null, SecurityGroupAnnotation.Of(annotations)),
                false, [], SecurityGroupAnnotationSettings.Everywhere).PlacedByAnnotation;
            return new PodFacts(uid, annotation, NeedsBranch: true, $"it carries the {PodEni.AnnotationKey} annotation",
                MetadataAccessPolicy.For(labels, defaultMetadataAccess, placedByAnnotation).ToString());
        }

        var policies = Policies(podNamespace);
        var serviceAccount = Text(spec, "serviceAccountName") ?? "default";
        var accountLabels = SecurityGroupMatcher.NeedsServiceAccount(podNamespace, policies)
            ? ServiceAccountLabels(podNamespace, serviceAccount) : null;
        // Whether the agent honours aws.tigera.io/security-groups is its setting, unknown here: an annotated pod is taken
        // to need a branch (fail closed) until the agent's decision record, which wins, says otherwise.
        var decision = BranchDecision.For(
            new PolicyPod(podNamespace, labels, serviceAccount, accountLabels, SecurityGroupAnnotation.Of(annotations)),
            PodEni.IsRequestedBy(spec), policies, SecurityGroupAnnotationSettings.Everywhere);
        return new PodFacts(uid, annotation, decision.NeedsBranch, decision.Reason,
            MetadataAccessPolicy.For(labels, defaultMetadataAccess, decision.PlacedByAnnotation).ToString());
    }

    /// <summary>The namespace's SecurityGroupPolicies; a malformed one is skipped, as the agent ignores it. Without the
    /// CRD (404) there are none.</summary>
    private List<SecurityGroupPolicy> Policies(string ns)
    {
        using var list = Get($"apis/{SecurityGroupPolicy.Group}/{SecurityGroupPolicy.Version}/namespaces/{ns}/{SecurityGroupPolicy.Plural}",
            $"the SecurityGroupPolicies of namespace {ns}");
        var policies = new List<SecurityGroupPolicy>();
        if (list is not null && Member(list.RootElement, "items") is { ValueKind: JsonValueKind.Array } items)
        {
            foreach (var item in items.EnumerateArray())
            {
                try
                {
                    policies.Add(SecurityGroupPolicy.Parse(item));
                }
                catch (PolicyFormatException)
                {
                    // The agent reports it (event on the policy); it selects nothing there either.
                }
            }
        }

        return policies;
    }

    /// <summary>A missing service account has no labels (the pod could not have been admitted with one, anyway).</summary>
    private Dictionary<string, string>? ServiceAccountLabels(string ns, string name)
    {
        using var account = Get($"api/v1/namespaces/{ns}/serviceaccounts/{name}", $"service account {ns}/{name}");
        return account is null ? null : Labels(Member(account.RootElement, "metadata"), "labels");
    }

    /// <summary>GETs a path; null for 404. Anything that is not an answer is error 11: the plugin then fails closed.</summary>
    private JsonDocument? Get(string path, string what)
    {
        var uri = new Uri(new Uri(config.Host.TrimEnd('/') + "/"), path);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, uri);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            Authorize(request);
            using var response = http.Send(request);
            if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
            {
                return null;
            }

            if (!response.IsSuccessStatusCode)
            {
                throw new CniException(CniErrorCode.TryAgainLater, $"reading {what} from the API answered {(int)response.StatusCode}");
            }

            using var body = response.Content.ReadAsStream();
            return JsonDocument.Parse(body);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
        {
            throw new CniException(CniErrorCode.TryAgainLater, $"cannot read {what} from the API at {config.Host}", e.Message);
        }
        catch (JsonException e)
        {
            throw new CniException(CniErrorCode.ApiFailure, $"the API's answer for {what} does not decode", e.Message);
        }
    }

    private static JsonElement Member(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) ? value : default;

    private static string? Text(JsonElement element, string name) =>
        Member(element, name) is { ValueKind: JsonValueKind.String } value ? value.GetString() : null;

    private static Dictionary<string, string> Labels(JsonElement metadata, string name)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        if (Member(metadata, name) is { ValueKind: JsonValueKind.Object } labels)
        {
            foreach (var label in labels.EnumerateObject())
            {
                if (label.Value.ValueKind == JsonValueKind.String)
                {
                    map[label.Name] = label.Value.GetString()!;
                }
            }
        }

        return map;
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
