namespace BranchEni.Agent.Policy;

/// <summary>What a pod looks like to policy matching.</summary>
internal sealed record PodFacts(
    string Namespace,
    IReadOnlyDictionary<string, string>? Labels,
    string ServiceAccountName,
    IReadOnlyDictionary<string, string>? ServiceAccountLabels);

/// <summary>The outcome: the security groups (may be empty) and the policies that contributed them.</summary>
internal sealed record SecurityGroupSelection(IReadOnlyList<string> GroupIds, IReadOnlyList<string> Policies);

/// <summary>
/// DESIGN.md §2 SGP semantics: only policies of the pod's namespace; a policy with no selector or no group ids is
/// ignored; every selector that is set must match (pod labels, service account labels); the union of the matching
/// policies' group ids, de-duplicated in order (policies taken in name order so the result is stable).
/// </summary>
internal static class SecurityGroupMatcher
{
    public static SecurityGroupSelection Select(PodFacts pod, IEnumerable<SecurityGroupPolicy> policies)
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
}
