using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace BranchEni.Sandbox.Kubernetes;

/// <summary>The schema checks the real API server (or the CRD's OpenAPI schema) would make, answered as 422 Invalid.</summary>
internal static partial class Validation
{
    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex DnsSubdomain();

    public static void Check(ResourceType type, JsonObject obj, string name)
    {
        if (name.Length == 0)
        {
            throw KubeException.Invalid(type, name, "metadata.name: Required value: name or generateName is required");
        }

        if (name.Length > 253 || !DnsSubdomain().IsMatch(name))
        {
            throw KubeException.Invalid(type, name, $"metadata.name: Invalid value: \"{name}\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'");
        }

        if (obj["metadata"]?["labels"] is JsonNode labels && (labels is not JsonObject l || l.Any(kv => kv.Value is not JsonValue)))
        {
            throw KubeException.Invalid(type, name, "metadata.labels: Invalid value: labels must be a map of strings");
        }

        if (type == ResourceTypes.Pods)
        {
            CheckPod(type, obj, name);
        }
        else if (type == ResourceTypes.SecurityGroupPolicies)
        {
            CheckSgp(type, obj, name);
        }
        else if (type == ResourceTypes.MutatingWebhookConfigurations || type == ResourceTypes.ValidatingWebhookConfigurations)
        {
            Admission.WebhookConfigurations.Validate(type, obj, name);
        }
    }

    private static void CheckPod(ResourceType type, JsonObject obj, string name)
    {
        if (obj["spec"]?["containers"] is not JsonArray { Count: > 0 } containers)
        {
            throw KubeException.Invalid(type, name, "spec.containers: Required value");
        }

        foreach (var c in containers)
        {
            if (Meta.Str(c, "name") is not { Length: > 0 } || Meta.Str(c, "image") is not { Length: > 0 })
            {
                throw KubeException.Invalid(type, name, "spec.containers: every container needs a name and an image");
            }
        }
    }

    /// <summary>The SecurityGroupPolicy CRD schema (DESIGN.md §2): selectors are objects, groupIds has at least one string.</summary>
    private static void CheckSgp(ResourceType type, JsonObject obj, string name)
    {
        if (obj["spec"] is not JsonObject spec)
        {
            if (obj["spec"] is not null)
            {
                throw KubeException.Invalid(type, name, "spec: Invalid value: must be an object");
            }

            return;
        }

        foreach (var selector in new[] { "podSelector", "serviceAccountSelector" })
        {
            if (spec[selector] is JsonNode s && s is not JsonObject)
            {
                throw KubeException.Invalid(type, name, $"spec.{selector}: Invalid value: must be an object");
            }
        }

        if (spec["securityGroups"] is JsonNode groups
            && (groups["groupIds"] is not JsonArray { Count: > 0 } ids || ids.Any(i => i is not JsonValue v || !v.TryGetValue<string>(out _))))
        {
            throw KubeException.Invalid(type, name, "spec.securityGroups.groupIds: Invalid value: should have at least 1 items, all strings");
        }
    }
}
