using System.Text.Json;

namespace BranchEni.Policy;

/// <summary>
/// A parsed `vpcresources.k8s.aws/v1beta1` SecurityGroupPolicy (DESIGN.md §2). Null selectors are "not set";
/// a policy with neither selector or no group ids is kept (to report it) but never matches.
/// </summary>
public sealed record SecurityGroupPolicy(
    string Namespace,
    string Name,
    LabelSelector? PodSelector,
    LabelSelector? ServiceAccountSelector,
    IReadOnlyList<string> GroupIds)
{
    public const string Group = "vpcresources.k8s.aws";
    public const string Version = "v1beta1";
    public const string Plural = "securitygrouppolicies";

    /// <summary>Why this policy can never select a pod, or null when it can.</summary>
    public string? IgnoredBecause =>
        PodSelector is null && ServiceAccountSelector is null ? "it sets neither podSelector nor serviceAccountSelector"
        : GroupIds.Count == 0 ? "spec.securityGroups.groupIds is empty"
        : null;

    /// <summary>Parses the object as the API returns it. Throws <see cref="PolicyFormatException"/> naming the field.</summary>
    public static SecurityGroupPolicy Parse(JsonElement sgp)
    {
        if (sgp.ValueKind != JsonValueKind.Object || !sgp.TryGetProperty("metadata", out var metadata) || metadata.ValueKind != JsonValueKind.Object)
        {
            throw new PolicyFormatException("metadata is missing");
        }

        var ns = LabelSelector.StringProperty(metadata, "namespace", "metadata") ?? throw new PolicyFormatException("metadata.namespace is missing");
        var name = LabelSelector.StringProperty(metadata, "name", "metadata") ?? throw new PolicyFormatException("metadata.name is missing");
        if (!sgp.TryGetProperty("spec", out var spec) || spec.ValueKind != JsonValueKind.Object)
        {
            throw new PolicyFormatException("spec is missing or not an object");
        }

        var pod = Selector(spec, "podSelector");
        var sa = Selector(spec, "serviceAccountSelector");
        var groups = new List<string>();
        if (spec.TryGetProperty("securityGroups", out var sgs) && sgs.ValueKind != JsonValueKind.Null)
        {
            if (sgs.ValueKind != JsonValueKind.Object)
            {
                throw new PolicyFormatException("spec.securityGroups is not an object");
            }

            if (sgs.TryGetProperty("groupIds", out var ids) && ids.ValueKind != JsonValueKind.Null)
            {
                if (ids.ValueKind != JsonValueKind.Array)
                {
                    throw new PolicyFormatException("spec.securityGroups.groupIds is not an array");
                }

                foreach (var id in ids.EnumerateArray())
                {
                    var text = id.ValueKind == JsonValueKind.String ? id.GetString()! : null;
                    if (text is null || !text.StartsWith("sg-", StringComparison.Ordinal) || text.Length < 4)
                    {
                        throw new PolicyFormatException($"spec.securityGroups.groupIds holds '{id}', not a security group id (sg-...)");
                    }

                    groups.Add(text);
                }
            }
        }

        return new SecurityGroupPolicy(ns, name, pod, sa, groups);
    }

    private static LabelSelector? Selector(JsonElement spec, string name) =>
        spec.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? LabelSelector.Parse(value, $"spec.{name}") : null;
}
