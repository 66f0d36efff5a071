using System.Text.Json.Nodes;

namespace BranchEni.Sandbox.Kubernetes.Admission;

/// <summary>
/// admissionregistration.k8s.io/v1 Mutating/ValidatingWebhookConfiguration: the defaults the API server fills in
/// and the validation it answers with 422, so a configuration the sandbox accepts is one a real cluster accepts.
/// </summary>
internal static class WebhookConfigurations
{
    private static readonly string[] Operations = ["*", "CONNECT", "CREATE", "DELETE", "UPDATE"];
    private static readonly string[] Scopes = ["*", "Cluster", "Namespaced"];

    /// <summary>The v1 defaults: failurePolicy Fail, matchPolicy Equivalent, empty selectors, 10 s, scope "*", port 443.</summary>
    public static void Default(ResourceType type, JsonObject obj)
    {
        if (obj["webhooks"] is not JsonArray webhooks)
        {
            return;
        }

        foreach (var webhook in webhooks.OfType<JsonObject>())
        {
            webhook["failurePolicy"] ??= "Fail";
            webhook["matchPolicy"] ??= "Equivalent";
            webhook["namespaceSelector"] ??= new JsonObject();
            webhook["objectSelector"] ??= new JsonObject();
            webhook["timeoutSeconds"] ??= 10;
            if (type == ResourceTypes.MutatingWebhookConfigurations)
            {
                webhook["reinvocationPolicy"] ??= "Never";
            }

            if (webhook["clientConfig"]?["service"] is JsonObject service)
            {
                service["port"] ??= 443;
            }

            foreach (var rule in (webhook["rules"] as JsonArray ?? []).OfType<JsonObject>())
            {
                rule["scope"] ??= "*";
            }
        }
    }

    public static void Validate(ResourceType type, JsonObject obj, string name)
    {
        var problem = Problem(type, obj);
        if (problem is not null)
        {
            throw KubeException.Invalid(type, name, problem);
        }
    }

    private static string? Problem(ResourceType type, JsonObject obj)
    {
        if (obj["webhooks"] is null)
        {
            return null;
        }

        if (obj["webhooks"] is not JsonArray webhooks || webhooks.Any(w => w is not JsonObject))
        {
            return "webhooks: Invalid value: must be a list of objects";
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < webhooks.Count; i++)
        {
            var w = (JsonObject)webhooks[i]!;
            var at = $"webhooks[{i}]";
            var name = Meta.Str(w, "name");
            var problem = name switch
            {
                null or "" => $"{at}.name: Required value",
                _ when name.Split('.').Length < 3 || name.Split('.').Any(s => s.Length == 0) =>
                    $"{at}.name: Invalid value: \"{name}\": should be a domain with at least three segments separated by dots",
                _ when !names.Add(name) => $"{at}.name: Duplicate value: \"{name}\"",
                _ => null,
            };
            problem ??= Versions(w, at) ?? Enum(w, "sideEffects", at, ["None", "NoneOnDryRun"], required: true)
                ?? Enum(w, "failurePolicy", at, ["Fail", "Ignore"], required: false)
                ?? Enum(w, "matchPolicy", at, ["Equivalent", "Exact"], required: false)
                ?? (type == ResourceTypes.MutatingWebhookConfigurations ? Enum(w, "reinvocationPolicy", at, ["IfNeeded", "Never"], required: false) : null)
                ?? Timeout(w, at) ?? Selectors(w, at) ?? Client(w, at) ?? Rules(w, at);
            if (problem is not null)
            {
                return problem;
            }
        }

        return null;
    }

    private static string? Versions(JsonObject w, string at) =>
        w["admissionReviewVersions"] is JsonArray { Count: > 0 } versions && versions.All(v => v is JsonValue)
            ? versions.Any(v => Meta.Str(v) is "v1" or "v1beta1") ? null : $"{at}.admissionReviewVersions: Invalid value: must include at least one of v1, v1beta1"
            : $"{at}.admissionReviewVersions: Required value: must specify one of v1, v1beta1";

    private static string? Enum(JsonObject w, string field, string at, string[] allowed, bool required)
    {
        var value = Meta.Str(w, field);
        if (value is null)
        {
            return required ? $"{at}.{field}: Required value: must specify one of {string.Join(", ", allowed)}" : null;
        }

        return allowed.Contains(value) ? null : $"{at}.{field}: Unsupported value: \"{value}\": supported values: {string.Join(", ", allowed.Select(a => $"\"{a}\""))}";
    }

    private static string? Timeout(JsonObject w, string at) =>
        w["timeoutSeconds"] is JsonValue v && v.TryGetValue<int>(out var seconds) && seconds is >= 1 and <= 30
            ? null
            : $"{at}.timeoutSeconds: Invalid value: {w["timeoutSeconds"]?.ToJsonString()}: the timeout value must be between 1 and 30 seconds";

    private static string? Selectors(JsonObject w, string at) =>
        new[] { "namespaceSelector", "objectSelector" }.FirstOrDefault(s => w[s] is not JsonObject) is { } bad
            ? $"{at}.{bad}: Invalid value: must be a label selector object"
            : LabelSelectors.Problem(w["namespaceSelector"] as JsonObject, $"{at}.namespaceSelector")
              ?? LabelSelectors.Problem(w["objectSelector"] as JsonObject, $"{at}.objectSelector");

    private static string? Client(JsonObject w, string at)
    {
        var client = w["clientConfig"] as JsonObject;
        var url = Meta.Str(client, "url");
        var service = client?["service"] as JsonObject;
        if ((url is null) == (service is null))
        {
            return $"{at}.clientConfig: Required value: exactly one of url or service is required";
        }

        if (url is not null && (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != "https"))
        {
            return $"{at}.clientConfig.url: Invalid value: \"{url}\": 'https' is the only allowed URL scheme";
        }

        if (service is not null && (Meta.Str(service, "name") is not { Length: > 0 } || Meta.Str(service, "namespace") is not { Length: > 0 }))
        {
            return $"{at}.clientConfig.service: Required value: name and namespace are required";
        }

        var bundle = Meta.Str(client, "caBundle");
        return bundle is null || Convert.TryFromBase64String(bundle, new byte[bundle.Length], out _)
            ? null
            : $"{at}.clientConfig.caBundle: Invalid value: must be base64 (PEM certificates)";
    }

    private static string? Rules(JsonObject w, string at)
    {
        if (w["rules"] is null)
        {
            return null;
        }

        if (w["rules"] is not JsonArray rules || rules.Any(r => r is not JsonObject))
        {
            return $"{at}.rules: Invalid value: must be a list of objects";
        }

        for (var j = 0; j < rules.Count; j++)
        {
            var rule = (JsonObject)rules[j]!;
            var where = $"{at}.rules[{j}]";
            foreach (var list in new[] { "operations", "apiGroups", "apiVersions", "resources" })
            {
                // "" in apiGroups is the core group; every other entry must say something.
                if (rule[list] is not JsonArray { Count: > 0 } items || items.Any(i => Meta.Str(i) is not { } text || (text.Length == 0 && list != "apiGroups")))
                {
                    return $"{where}.{list}: Required value";
                }
            }

            if (((JsonArray)rule["operations"]!).Select(o => Meta.Str(o)!).FirstOrDefault(o => !Operations.Contains(o)) is { } op)
            {
                return $"{where}.operations: Unsupported value: \"{op}\": supported values: {string.Join(", ", Operations.Select(a => $"\"{a}\""))}";
            }

            if (Enum(rule, "scope", where, Scopes, required: false) is { } scope)
            {
                return scope;
            }
        }

        return null;
    }
}
