using System.Text.Json;

namespace BranchEni.Policy;

/// <summary>The names EKS "security groups for pods" gives the branch ENI resource and the pod's assignment.</summary>
public static class PodEni
{
    /// <summary>The extended resource a branch pod requests (the webhook injects it; the node advertises it).</summary>
    public const string Resource = "vpc.amazonaws.com/pod-eni";

    /// <summary>The annotation the agent writes with the pod's branch ENI.</summary>
    public const string AnnotationKey = "vpc.amazonaws.com/pod-eni";

    /// <summary>Whether any container of a pod spec requests or limits <see cref="Resource"/>.</summary>
    public static bool IsRequestedBy(JsonElement spec)
    {
        if (spec.ValueKind != JsonValueKind.Object || !spec.TryGetProperty("containers", out var containers) || containers.ValueKind != JsonValueKind.Array)
        {
            return false;
        }

        foreach (var container in containers.EnumerateArray())
        {
            if (container.ValueKind == JsonValueKind.Object && container.TryGetProperty("resources", out var resources) && resources.ValueKind == JsonValueKind.Object
                && (Names(resources, "limits") || Names(resources, "requests")))
            {
                return true;
            }
        }

        return false;
    }

    private static bool Names(JsonElement resources, string list) =>
        resources.TryGetProperty(list, out var quantities) && quantities.ValueKind == JsonValueKind.Object && quantities.TryGetProperty(Resource, out _);
}

/// <summary>
/// Whether a pod must have a branch ENI (DESIGN.md §1 "Fail closed"): it requests <see cref="PodEni.Resource"/>, a
/// SecurityGroupPolicy of its namespace selects it, or it carries <see cref="TigeraNames.SecurityGroupsAnnotation"/>
/// where that is enabled. The agent records this for the CNI, branch-eni-kube decides it from the API when no record
/// does, and the controller's webhook injects the resource request from it: one rule everywhere, so the three can
/// never disagree about which pods must not run on the node's networking.
/// </summary>
/// <remarks>The groups are the union: the policies' (in order), then the annotation's, de-duplicated. A malformed
/// annotation that is honoured still needs a branch (so the pod fails closed) but names no groups: the pod must not
/// run in fewer groups than its owner asked for.</remarks>
public sealed record BranchDecision(bool RequestsPodEni, SecurityGroupSelection Selection)
{
    /// <summary>The annotation's ids when it is honoured and well-formed; empty otherwise.</summary>
    public IReadOnlyList<string> AnnotationGroupIds { get; init; } = [];

    /// <summary>Why an honoured annotation cannot be used (the parser's message); null when it is fine or absent.</summary>
    public string? AnnotationProblem { get; init; }

    /// <summary>Why a present annotation is ignored (the feature is off for the namespace); null otherwise.</summary>
    public string? AnnotationIgnoredBecause { get; init; }

    /// <summary>Placed (at least partly) by the annotation: what <see cref="MetadataAccessPolicy"/> takes.</summary>
    public bool PlacedByAnnotation => AnnotationGroupIds.Count > 0;

    /// <summary>The branch's groups: the policies' then the annotation's, de-duplicated in order.</summary>
    public IReadOnlyList<string> GroupIds => AnnotationProblem is not null ? [] : [.. Selection.GroupIds.Union(AnnotationGroupIds, StringComparer.Ordinal)];

    public bool NeedsBranch => RequestsPodEni || Selection.GroupIds.Count > 0 || AnnotationGroupIds.Count > 0 || AnnotationProblem is not null;

    /// <summary>Why, for messages and events: what selects it (policies, the annotation), else the request, else that
    /// nothing selects it; an ignored annotation is said so.</summary>
    public string Reason
    {
        get
        {
            if (AnnotationProblem is not null)
            {
                return $"its {TigeraNames.SecurityGroupsAnnotation} annotation is invalid: {AnnotationProblem}";
            }

            var sources = new List<string>();
            if (Selection.Policies.Count > 0)
            {
                sources.Add($"SecurityGroupPolicy {string.Join(", ", Selection.Policies)} selects it");
            }

            if (PlacedByAnnotation)
            {
                sources.Add($"its {TigeraNames.SecurityGroupsAnnotation} annotation names {string.Join(", ", AnnotationGroupIds)}");
            }

            var reason = sources.Count > 0 ? string.Join(" and ", sources)
                : RequestsPodEni ? $"it requests {PodEni.Resource}"
                : "no SecurityGroupPolicy selects it";
            return AnnotationIgnoredBecause is null ? reason
                : $"{reason} (its {TigeraNames.SecurityGroupsAnnotation} annotation is ignored: {AnnotationIgnoredBecause})";
        }
    }

    /// <summary>Where the groups come from, for the "security groups requested" event.</summary>
    public string Source
    {
        get
        {
            var sources = new List<string>();
            if (Selection.Policies.Count > 0)
            {
                sources.Add($"SecurityGroupPolicy {string.Join(", ", Selection.Policies)}");
            }

            if (PlacedByAnnotation)
            {
                sources.Add($"annotation {TigeraNames.SecurityGroupsAnnotation}");
            }

            return string.Join(" and ", sources);
        }
    }

    public static BranchDecision For(PolicyPod pod, bool requestsPodEni, IEnumerable<SecurityGroupPolicy> policies,
        SecurityGroupAnnotationSettings? annotation = null)
    {
        ArgumentNullException.ThrowIfNull(pod);
        var decision = new BranchDecision(requestsPodEni, SecurityGroupMatcher.Select(pod, policies));
        if (pod.SecurityGroupsAnnotation is not { } value)
        {
            return decision;
        }

        if ((annotation ?? SecurityGroupAnnotationSettings.Disabled).IgnoredBecause(pod.Namespace) is { } ignored)
        {
            return decision with { AnnotationIgnoredBecause = ignored };
        }

        try
        {
            return decision with { AnnotationGroupIds = SecurityGroupAnnotation.Parse(value) };
        }
        catch (FormatException e)
        {
            return decision with { AnnotationProblem = e.Message };
        }
    }
}
