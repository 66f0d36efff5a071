using System.Text.Json;
using BranchEni.Kube;
using BranchEni.Policy;

namespace BranchEni.Controller.Admission;

/// <summary>
/// The validating webhook's part for Calico's names (issue 19). The <c>sg.aws.tigera.io/*</c> labels select pods for
/// NetworkPolicy, so only the agents (which keep them equal to the branch ENI's groups) may add, change or remove one:
/// a forged label is a policy bypass. The <c>aws.tigera.io/security-groups</c> annotation, where it is enabled, must be
/// well-formed at CREATE, and may not change on a running pod (<see cref="AnnotationChange"/>).
/// </summary>
internal static class SecurityGroupGuard
{
    public static AdmissionVerdict Decide(AdmissionRequest request, IReadOnlyCollection<string> agentIdentities, SecurityGroupAnnotationSettings settings)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(agentIdentities);
        ArgumentNullException.ThrowIfNull(settings);
        if (request.Operation is not ("CREATE" or "UPDATE"))
        {
            return AdmissionVerdict.Allow;
        }

        var labels = Labels(request);
        if (labels is not null && !agentIdentities.Contains(request.UserName))
        {
            return AdmissionVerdict.Forbidden(
                $"the {TigeraNames.SecurityGroupLabelPrefix}* labels are written only by the branch-eni node agents ({string.Join(", ", agentIdentities)}): "
                + $"they select pods for NetworkPolicy by security group; user \"{request.UserName}\" may not {labels}");
        }

        var ns = request.Namespace ?? Metadata(request.Object, "namespace") ?? "default";
        if (!settings.AppliesTo(ns))
        {
            // Not ours here: the annotation means nothing to branch-eni in this namespace (other software may own it).
            return AdmissionVerdict.Allow;
        }

        var current = Annotations(request.Object).GetValueOrDefault(TigeraNames.SecurityGroupsAnnotation);
        if (request.Operation == "CREATE")
        {
            return current is null ? AdmissionVerdict.Allow : Malformed(current);
        }

        var oldAnnotations = Annotations(request.OldObject);
        var previous = oldAnnotations.GetValueOrDefault(TigeraNames.SecurityGroupsAnnotation);
        return previous == current ? AdmissionVerdict.Allow : AnnotationChange(previous, current, oldAnnotations.ContainsKey(PodEni.AnnotationKey));
    }

    /// <summary>
    /// A change of the annotation on an existing pod. A pod without a branch cannot get one: its sandbox already has the
    /// node's networking. A pod with one would need its ENI's groups changed live (ModifyNetworkInterfaceAttribute and
    /// new labels), which is planned separately: this is the one place that then becomes that change.
    /// </summary>
    internal static AdmissionVerdict AnnotationChange(string? previous, string? current, bool hasBranch)
    {
        if (previous is null && !hasBranch)
        {
            return AdmissionVerdict.Forbidden(
                $"the pod has no branch ENI, so adding {TigeraNames.SecurityGroupsAnnotation} cannot move its networking into security groups; "
                + "delete the pod and create it again with the annotation");
        }

        var verb = previous is null ? "adding" : current is null ? "removing" : "changing";
        return AdmissionVerdict.Forbidden(
            $"{verb} {TigeraNames.SecurityGroupsAnnotation} on an existing pod is refused: live security-group changes are not supported yet; "
            + "delete the pod and create it again with the groups it should have");
    }

    private static AdmissionVerdict Malformed(string value)
    {
        try
        {
            SecurityGroupAnnotation.Parse(value);
            return AdmissionVerdict.Allow;
        }
        catch (FormatException e)
        {
            return AdmissionVerdict.Forbidden(e.Message);
        }
    }

    /// <summary>What the request does to the sg.aws.tigera.io labels ("add sg.aws.tigera.io/sg-…"), or null when nothing.</summary>
    private static string? Labels(AdmissionRequest request)
    {
        var now = SgLabels(request.Object);
        var before = request.Operation == "UPDATE" ? SgLabels(request.OldObject) : [];
        var added = now.Keys.Where(k => !before.ContainsKey(k)).ToList();
        var removed = before.Keys.Where(k => !now.ContainsKey(k)).ToList();
        var changed = now.Keys.Where(k => before.TryGetValue(k, out var v) && v != now[k]).ToList();
        var what = new List<string>();
        Describe(what, "add", added);
        Describe(what, "remove", removed);
        Describe(what, "change", changed);
        return what.Count == 0 ? null : string.Join("; ", what);
    }

    private static void Describe(List<string> what, string verb, List<string> keys)
    {
        if (keys.Count > 0)
        {
            what.Add($"{verb} {string.Join(", ", keys.Order(StringComparer.Ordinal))}");
        }
    }

    private static Dictionary<string, string> SgLabels(JsonElement pod) =>
        Map(pod, "labels").Where(l => l.Key.StartsWith(TigeraNames.SecurityGroupLabelPrefix, StringComparison.Ordinal))
            .ToDictionary(l => l.Key, l => l.Value, StringComparer.Ordinal);

    private static Dictionary<string, string> Annotations(JsonElement pod) => Map(pod, "annotations");

    private static Dictionary<string, string> Map(JsonElement pod, string name) =>
        pod.ValueKind == JsonValueKind.Object && pod.TryGetProperty("metadata", out var metadata) && metadata.ValueKind == JsonValueKind.Object
            ? ObjectFields.Map(metadata, name)
            : [];

    private static string? Metadata(JsonElement pod, string name) =>
        pod.ValueKind == JsonValueKind.Object && pod.TryGetProperty("metadata", out var metadata) && metadata.ValueKind == JsonValueKind.Object
            ? ObjectFields.Str(metadata, name)
            : null;
}
