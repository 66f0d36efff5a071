namespace BranchEni.Policy;

/// <summary>What a pod looks like to policy matching; each executable fills it from its own view of the pod
/// (SecurityGroupsAnnotation: the value of <see cref="TigeraNames.SecurityGroupsAnnotation"/>, if any).</summary>
public sealed record PolicyPod(
    string Namespace,
    IReadOnlyDictionary<string, string>? Labels,
    string ServiceAccountName,
    IReadOnlyDictionary<string, string>? ServiceAccountLabels,
    string? SecurityGroupsAnnotation = null);

/// <summary>The outcome: the security groups (may be empty) and the policies that contributed them.</summary>
public sealed record SecurityGroupSelection(IReadOnlyList<string> GroupIds, IReadOnlyList<string> Policies);

/// <summary>
/// DESIGN.md §2 SGP semantics: only policies of the pod's namespace; a policy with no selector or no group ids is
/// ignored; every selector that is set must match (pod labels, service account labels); the union of the matching
/// policies' group ids, de-duplicated in order (policies taken in name order so the result is stable).
/// </summary>
public static class SecurityGroupMatcher
{
    public static SecurityGroupSelection Select(PolicyPod pod, IEnumerable<SecurityGroupPolicy> policies)
    {
        ArgumentNullException.ThrowIfNull(pod);
        var groups = new List<string>();
        var names = new List<string>();
        foreach (var policy in policies.Where(p => p.Namespace == pod.Namespace).OrderBy(p => p.Name, StringComparer.Ordinal))
        {
            if (policy.IgnoredBecause is not null)
            {
                continue;
            }

            if (policy.PodSelector is { } podSelector && !podSelector.Matches(pod.Labels))
            {
                continue;
            }

            if (policy.ServiceAccountSelector is { } saSelector && !saSelector.Matches(pod.ServiceAccountLabels))
            {
                continue;
            }

            names.Add(policy.Name);
            foreach (var id in policy.GroupIds)
            {
                if (!groups.Contains(id, StringComparer.Ordinal))
                {
                    groups.Add(id);
                }
            }
        }

        return new SecurityGroupSelection(groups, names);
    }

    /// <summary>Whether matching a pod of <paramref name="ns"/> needs its service account's labels (a reader that has
    /// no informer fetches the account only then).</summary>
    public static bool NeedsServiceAccount(string ns, IEnumerable<SecurityGroupPolicy> policies) =>
        policies.Any(p => p.Namespace == ns && SelectsByServiceAccount(p));

    /// <summary>The namespaces whose pods need their service account's labels to be matched (the agent watches
    /// service accounts only there).</summary>
    public static HashSet<string> NamespacesSelectingByServiceAccount(IEnumerable<SecurityGroupPolicy> policies) =>
        policies.Where(SelectsByServiceAccount).Select(p => p.Namespace).ToHashSet(StringComparer.Ordinal);

    private static bool SelectsByServiceAccount(SecurityGroupPolicy p) => p.IgnoredBecause is null && p.ServiceAccountSelector is not null;
}
