using System.Text.Json;

namespace BranchEni.Policy;

/// <summary>
/// Calico's <see cref="TigeraNames.SecurityGroupsAnnotation"/> (DESIGN.md §2): a JSON array of security group ids. One
/// strict parser for the agent, branch-eni-kube and the webhook, so a value one of them refuses none of them accepts.
/// </summary>
public static class SecurityGroupAnnotation
{
    /// <summary>What EC2 gives groups: "sg-" and 8 (older) or 17 lowercase hex digits.</summary>
    private static bool IsGroupId(string id) =>
        id.StartsWith("sg-", StringComparison.Ordinal) && id.Length is 11 or 20 && id.AsSpan(3).IndexOfAnyExcept("0123456789abcdef") < 0;

    /// <summary>The ids, de-duplicated in order; throws <see cref="FormatException"/> saying what is wrong.</summary>
    public static IReadOnlyList<string> Parse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var problem = $"annotation {TigeraNames.SecurityGroupsAnnotation} must be a JSON array of security group ids such as [\"sg-0123456789abcdef0\"]";
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(value);
        }
        catch (JsonException e)
        {
            throw new FormatException($"{problem}; it is not JSON ({e.Message})");
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Array)
            {
                throw new FormatException($"{problem}; it is a JSON {document.RootElement.ValueKind.ToString().ToLowerInvariant()}");
            }

            var ids = new List<string>();
            var index = 0;
            foreach (var element in document.RootElement.EnumerateArray())
            {
                if (element.ValueKind != JsonValueKind.String)
                {
                    throw new FormatException($"{problem}; element {index} is a JSON {element.ValueKind.ToString().ToLowerInvariant()}, not a string");
                }

                var id = element.GetString()!;
                if (!IsGroupId(id))
                {
                    throw new FormatException($"{problem}; element {index} \"{id}\" is not a security group id (sg- and 8 or 17 lowercase hex digits)");
                }

                if (!ids.Contains(id, StringComparer.Ordinal))
                {
                    ids.Add(id);
                }

                index++;
            }

            return ids.Count > 0 ? ids : throw new FormatException($"{problem}; it is empty");
        }
    }

    /// <summary>The annotation's value on a pod, or null when it has none.</summary>
    public static string? Of(IReadOnlyDictionary<string, string>? annotations) =>
        annotations is not null && annotations.TryGetValue(TigeraNames.SecurityGroupsAnnotation, out var value) ? value : null;
}

/// <summary>
/// Whether the annotation counts (opt-in ENABLE_SG_ANNOTATION, optional namespace allowlist SG_ANNOTATION_NAMESPACES):
/// an input of the one decision rule, so agent, webhook and branch-eni-kube apply it alike.
/// </summary>
public sealed record SecurityGroupAnnotationSettings(bool Enabled, IReadOnlySet<string> Namespaces)
{
    public const string EnableSetting = "ENABLE_SG_ANNOTATION";

    public const string NamespacesSetting = "SG_ANNOTATION_NAMESPACES";

    /// <summary>The annotation is ignored everywhere (the default).</summary>
    public static readonly SecurityGroupAnnotationSettings Disabled = new(false, new HashSet<string>());

    /// <summary>Honoured in every namespace. branch-eni-kube assumes this: it cannot know the agent's setting, so an
    /// annotated pod fails closed until the agent's decision record says otherwise.</summary>
    public static readonly SecurityGroupAnnotationSettings Everywhere = new(true, new HashSet<string>());

    /// <summary>From a comma-separated namespace list; empty means every namespace.</summary>
    public static SecurityGroupAnnotationSettings Of(bool enabled, string? namespaces) =>
        new(enabled, (namespaces ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal));

    public bool AppliesTo(string ns) => Enabled && (Namespaces.Count == 0 || Namespaces.Contains(ns));

    /// <summary>Why an annotation in <paramref name="ns"/> is ignored, or null when it is honoured.</summary>
    public string? IgnoredBecause(string ns) =>
        !Enabled ? $"{EnableSetting} is not true"
        : !AppliesTo(ns) ? $"namespace {ns} is not in {NamespacesSetting}"
        : null;
}
