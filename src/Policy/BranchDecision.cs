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
/// Whether a pod must have a branch ENI (DESIGN.md §1 "Fail closed"): it requests <see cref="PodEni.Resource"/>, or a
/// SecurityGroupPolicy of its namespace selects it. The agent records this for the CNI, branch-eni-kube decides it from
/// the API when no record does, and the controller's webhook injects the resource request from it: one rule everywhere,
/// so the three can never disagree about which pods must not run on the node's networking.
/// </summary>
public sealed record BranchDecision(bool RequestsPodEni, SecurityGroupSelection Selection)
{
    public bool NeedsBranch => RequestsPodEni || Selection.GroupIds.Count > 0;

    /// <summary>Why, for messages and events: the selecting policies, else the request, else that nothing selects it.</summary>
    public string Reason =>
        Selection.Policies.Count > 0 ? $"SecurityGroupPolicy {string.Join(", ", Selection.Policies)} selects it"
        : RequestsPodEni ? $"it requests {PodEni.Resource}"
        : "no SecurityGroupPolicy selects it";

    public static BranchDecision For(PolicyPod pod, bool requestsPodEni, IEnumerable<SecurityGroupPolicy> policies) =>
        new(requestsPodEni, SecurityGroupMatcher.Select(pod, policies));
}
