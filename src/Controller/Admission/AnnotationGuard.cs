using System.Text.Json;
using BranchEni.Kube;
using BranchEni.Policy;

namespace BranchEni.Controller.Admission;

/// <summary>
/// The validating webhook (issue 17): the <see cref="PodEni.AnnotationKey"/> annotation tells the CNI which branch ENI
/// (and so which security groups) a pod's traffic leaves through, so only the node agents may write it. A pod created
/// with it is denied; an UPDATE that adds, changes or removes it is denied unless the requester is an agent identity.
/// </summary>
internal static class AnnotationGuard
{
    public static AdmissionVerdict Decide(AdmissionRequest request, IReadOnlyCollection<string> agentIdentities)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(agentIdentities);
        var current = Annotation(request.Object);
        switch (request.Operation)
        {
            case "CREATE" when current is not null:
                // Agents annotate running pods; none creates one. An annotation at creation can only be forged.
                return AdmissionVerdict.Forbidden(
                    $"{Owners(agentIdentities)}; a pod may not be created with it (user \"{request.UserName}\")");
            case "UPDATE":
                var previous = Annotation(request.OldObject);
                if (previous == current || agentIdentities.Contains(request.UserName))
                {
                    return AdmissionVerdict.Allow;
                }

                var verb = previous is null ? "add" : current is null ? "remove" : "change";
                return AdmissionVerdict.Forbidden($"{Owners(agentIdentities)}; user \"{request.UserName}\" may not {verb} it");
            default:
                return AdmissionVerdict.Allow;
        }
    }

    private static string Owners(IReadOnlyCollection<string> agentIdentities) =>
        $"the {PodEni.AnnotationKey} annotation is written only by the branch-eni node agents ({string.Join(", ", agentIdentities)})";

    private static string? Annotation(JsonElement pod) =>
        pod.ValueKind == JsonValueKind.Object && pod.TryGetProperty("metadata", out var metadata) && metadata.ValueKind == JsonValueKind.Object
        && ObjectFields.Map(metadata, "annotations").TryGetValue(PodEni.AnnotationKey, out var value)
            ? value
            : null;
}
