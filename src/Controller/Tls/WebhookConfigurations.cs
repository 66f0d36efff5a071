using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using BranchEni.Kube;
using k8s;
using k8s.Models;
using Serilog;

namespace BranchEni.Controller.Tls;

/// <summary>Where the API server reaches the webhooks: through a Service in a cluster, or a URL outside one.</summary>
internal sealed record WebhookEndpoint(string? ServiceNamespace, string? ServiceName, Uri? Url)
{
    public const string MutatePath = "/mutate-v1-pod";
    public const string ValidatePath = "/validate-v1-pod";
}

/// <summary>
/// Points the controller's two webhook configurations (both named `branch-eni`) at it: sets every webhook's
/// clientConfig.caBundle to our CA, and with a URL endpoint rewrites clientConfig to `{url, caBundle}` (keeping each
/// webhook's path). Patches only what differs, at the resourceVersion read (a JSON merge patch replaces the webhooks
/// list whole, so a concurrent edit must not be overwritten), and never creates the configurations: the manifests do.
/// </summary>
internal sealed class WebhookConfigurations(KubeConnection kube, WebhookEndpoint endpoint, ILogger log)
{
    public const string Name = "branch-eni";

    private static readonly (string Plural, string DefaultPath)[] Kinds =
    [
        ("mutatingwebhookconfigurations", WebhookEndpoint.MutatePath),
        ("validatingwebhookconfigurations", WebhookEndpoint.ValidatePath),
    ];

    /// <summary>Brings both configurations in line; returns how many were missing (the caller tries again later).</summary>
    public async Task<int> ReconcileAsync(string caBundlePem, CancellationToken ct)
    {
        var missing = 0;
        var caBundle = Convert.ToBase64String(Encoding.ASCII.GetBytes(caBundlePem));
        foreach (var (plural, defaultPath) in Kinds)
        {
            using var response = await kube.GetAsync($"/apis/admissionregistration.k8s.io/v1/{plural}/{Name}", ct).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                missing++;
                log.Warning("The {Kind} {Name} does not exist yet; the API server will not call this webhook until it does", plural, Name);
                continue;
            }

            if (!response.IsSuccessStatusCode)
            {
                throw new HttpRequestException($"GET {plural}/{Name}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false)}");
            }

            var configuration = JsonNode.Parse(await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false))!.AsObject();
            if (Desired(configuration, caBundle, defaultPath) is { } patch)
            {
                await PatchAsync(plural, patch, ct).ConfigureAwait(false);
                log.Information("Patched {Kind} {Name}: caBundle and clientConfig now point at this controller", plural, Name);
            }
        }

        return missing;
    }

    /// <summary>The merge patch that makes every webhook's clientConfig right, or null when all already are.</summary>
    internal JsonObject? Desired(JsonObject configuration, string caBundle, string defaultPath)
    {
        var webhooks = configuration["webhooks"] as JsonArray ?? [];
        var changed = false;
        foreach (var webhook in webhooks.OfType<JsonObject>())
        {
            var current = webhook["clientConfig"] as JsonObject ?? [];
            var wanted = ClientConfig(current, caBundle, defaultPath);
            if (!JsonNode.DeepEquals(current, wanted))
            {
                webhook["clientConfig"] = wanted;
                changed = true;
            }
        }

        if (!changed)
        {
            return null;
        }

        return new JsonObject
        {
            ["metadata"] = new JsonObject { ["resourceVersion"] = configuration["metadata"]?["resourceVersion"]?.DeepClone() },
            ["webhooks"] = webhooks.DeepClone(),
        };
    }

    private JsonObject ClientConfig(JsonObject current, string caBundle, string defaultPath)
    {
        var service = current["service"] as JsonObject;
        var path = service?["path"]?.GetValue<string>()
            ?? (current["url"]?.GetValue<string>() is { } url && Uri.TryCreate(url, UriKind.Absolute, out var u) && u.AbsolutePath != "/" ? u.AbsolutePath : null)
            ?? defaultPath;
        if (endpoint.Url is { } baseUrl)
        {
            return new JsonObject { ["url"] = new Uri(baseUrl, path).ToString(), ["caBundle"] = caBundle };
        }

        var wanted = (service?.DeepClone() as JsonObject) ?? new JsonObject { ["path"] = path };
        wanted["namespace"] = endpoint.ServiceNamespace;
        wanted["name"] = endpoint.ServiceName;
        return new JsonObject { ["service"] = wanted, ["caBundle"] = caBundle };
    }

    private async Task PatchAsync(string plural, JsonObject patch, CancellationToken ct)
    {
        var body = new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch);
        var admission = kube.Client.AdmissionregistrationV1;
        if (plural == "mutatingwebhookconfigurations")
        {
            await kube.WithDeadline(c => admission.PatchMutatingWebhookConfigurationAsync(body, Name, cancellationToken: c), ct).ConfigureAwait(false);
        }
        else
        {
            await kube.WithDeadline(c => admission.PatchValidatingWebhookConfigurationAsync(body, Name, cancellationToken: c), ct).ConfigureAwait(false);
        }
    }
}
