namespace BranchEni.Policy;

/// <summary>Whether a branch pod may reach the instance metadata service (169.254.169.254).</summary>
public enum MetadataAccess
{
    Allowed,
    Denied,
}

/// <summary>
/// DESIGN.md §2: the pod's <see cref="TigeraNames.AllowMetadataAccessLabel"/> decides ("true" allows, "false" denies);
/// without it the cluster default (DEFAULT_POD_METADATA_ACCESS); without that, Denied for pods placed in groups by the
/// Calico annotation (Calico's behaviour) and Allowed for pods placed only by a SecurityGroupPolicy (EKS's, which
/// users who migrate rely on). A label with any other value denies: this is a security control, so a typo must not
/// open it.
/// </summary>
public static class MetadataAccessPolicy
{
    /// <summary>The environment variable (and flag) naming the cluster default.</summary>
    public const string DefaultSetting = "DEFAULT_POD_METADATA_ACCESS";

    public static MetadataAccess For(IReadOnlyDictionary<string, string>? podLabels, MetadataAccess? clusterDefault, bool placedByAnnotation)
    {
        if (podLabels is not null && podLabels.TryGetValue(TigeraNames.AllowMetadataAccessLabel, out var value))
        {
            return value == "true" ? MetadataAccess.Allowed : MetadataAccess.Denied;
        }

        return clusterDefault ?? (placedByAnnotation ? MetadataAccess.Denied : MetadataAccess.Allowed);
    }

    /// <summary>The exact name a record, plugin config or branch-eni-kube answer carries ("Allowed" or "Denied"); null for
    /// anything else, which each caller refuses (or, for branch-eni-kube's answer, denies) in its own way.</summary>
    public static MetadataAccess? FromExactName(string? value) => value switch
    {
        nameof(MetadataAccess.Allowed) => MetadataAccess.Allowed,
        nameof(MetadataAccess.Denied) => MetadataAccess.Denied,
        _ => null,
    };

    /// <summary>Parses a setting value, case-insensitively; empty means unset.</summary>
    public static bool TryParseSetting(string? text, out MetadataAccess? value)
    {
        value = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return true;
        }

        foreach (var name in Enum.GetValues<MetadataAccess>())
        {
            if (string.Equals(text.Trim(), name.ToString(), StringComparison.OrdinalIgnoreCase))
            {
                value = name;
                return true;
            }
        }

        return false;
    }
}
