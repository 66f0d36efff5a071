using System.Globalization;
using System.Text.Json.Nodes;

namespace BranchEni.Sandbox.Kubernetes.Admission;

/// <summary>Where a webhook is called: a URL, or a Service reference (which the sandbox cannot reach: no cluster network).</summary>
internal sealed record WebhookClient(string? Url, string? ServiceNamespace, string? ServiceName, string? ServicePath, int ServicePort, string? CaBundle)
{
    /// <summary>The address as the API server would name it in an error, with the ?timeout= it appends.</summary>
    public string Describe(int timeoutSeconds) =>
        (Url ?? $"https://{ServiceName}.{ServiceNamespace}.svc:{ServicePort}{ServicePath}")
        + (Url?.Contains('?', StringComparison.Ordinal) == true ? "&" : "?") + $"timeout={timeoutSeconds}s";
}

/// <summary>One rule of a webhook: which operations on which group/version/resource[/subresource] in which scope.</summary>
internal sealed record WebhookRule(string[] Operations, string[] ApiGroups, string[] ApiVersions, string[] Resources, string Scope);

/// <summary>
/// One webhook of a stored (already defaulted and validated) configuration, in the order the API server calls them:
/// configurations by name, then webhooks in their configuration's order.
/// </summary>
internal sealed record Webhook(
    string Name,
    string Configuration,
    bool Mutating,
    WebhookClient Client,
    IReadOnlyList<WebhookRule> Rules,
    bool FailOpen,
    string SideEffects,
    int TimeoutSeconds,
    JsonObject? NamespaceSelector,
    JsonObject? ObjectSelector,
    IReadOnlyList<string> ReviewVersions)
{
    public static IEnumerable<Webhook> From(JsonObject configuration, bool mutating)
    {
        foreach (var w in (configuration["webhooks"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var client = w["clientConfig"] as JsonObject;
            var service = client?["service"] as JsonObject;
            yield return new Webhook(
                Meta.Str(w, "name") ?? "",
                Meta.Name(configuration),
                mutating,
                new WebhookClient(
                    Meta.Str(client, "url"),
                    Meta.Str(service, "namespace"),
                    Meta.Str(service, "name"),
                    Meta.Str(service, "path") ?? "",
                    int.TryParse(Meta.Str(service, "port"), NumberStyles.None, CultureInfo.InvariantCulture, out var port) ? port : 443,
                    Meta.Str(client, "caBundle")),
                (w["rules"] as JsonArray ?? []).OfType<JsonObject>().Select(Rule).ToList(),
                Meta.Str(w, "failurePolicy") == "Ignore",
                Meta.Str(w, "sideEffects") ?? "",
                int.TryParse(Meta.Str(w, "timeoutSeconds"), NumberStyles.None, CultureInfo.InvariantCulture, out var t) ? t : 10,
                w["namespaceSelector"] as JsonObject,
                w["objectSelector"] as JsonObject,
                (w["admissionReviewVersions"] as JsonArray ?? []).Select(v => Meta.Str(v) ?? "").ToList());
        }
    }

    private static WebhookRule Rule(JsonObject rule)
    {
        string[] List(string field) => (rule[field] as JsonArray ?? []).Select(v => Meta.Str(v) ?? "").ToArray();
        return new WebhookRule(List("operations"), List("apiGroups"), List("apiVersions"), List("resources"), Meta.Str(rule, "scope") ?? "*");
    }
}
