using System.Text.Json;
using BranchEni.Kube;
using BranchEni.Policy;

namespace BranchEni.Agent.Kubernetes;

/// <summary>The parts of a pod the agent decides on, read straight from the API's JSON (no full model kept: the
/// agent holds every pod of its node in memory).</summary>
internal sealed record PodView(
    string Uid,
    string Namespace,
    string Name,
    IReadOnlyDictionary<string, string> Labels,
    string? PodEniAnnotation,
    string ServiceAccount,
    string? Phase,
    bool HostNetwork,
    bool RequestsPodEni,
    string? SecurityGroupsAnnotation = null)
{
    /// <summary>Succeeded or Failed: its sandbox is gone for good, its branch can be released.</summary>
    public bool Finished => Phase is "Succeeded" or "Failed";

    /// <summary>The pod's sg.aws.tigera.io/&lt;sg-id&gt; labels (the groups it says it is in).</summary>
    public IEnumerable<string> SecurityGroupLabels =>
        Labels.Keys.Where(k => k.StartsWith(TigeraNames.SecurityGroupLabelPrefix, StringComparison.Ordinal));

    public static PodView Parse(JsonElement pod)
    {
        var metadata = pod.GetProperty("metadata");
        var spec = pod.TryGetProperty("spec", out var s) ? s : default;
        var annotations = Map(metadata, "annotations");
        return new PodView(
            Str(metadata, "uid") ?? throw new FormatException("pod has no metadata.uid"),
            Str(metadata, "namespace") ?? throw new FormatException("pod has no metadata.namespace"),
            Str(metadata, "name") ?? throw new FormatException("pod has no metadata.name"),
            Map(metadata, "labels"),
            annotations.TryGetValue(PodEni.AnnotationKey, out var a) ? a : null,
            (spec.ValueKind == JsonValueKind.Object ? Str(spec, "serviceAccountName") : null) ?? "default",
            pod.TryGetProperty("status", out var status) && status.ValueKind == JsonValueKind.Object ? Str(status, "phase") : null,
            spec.ValueKind == JsonValueKind.Object && spec.TryGetProperty("hostNetwork", out var h) && h.ValueKind == JsonValueKind.True,
            PodEni.IsRequestedBy(spec),
            SecurityGroupAnnotation.Of(annotations));
    }

    internal static string? Str(JsonElement obj, string name) => ObjectFields.Str(obj, name);

    internal static Dictionary<string, string> Map(JsonElement obj, string name) => ObjectFields.Map(obj, name);
}

/// <summary>The node's extended resource and trunk label as last seen.</summary>
internal sealed record NodeView(string Name, string? PodEniCapacity, string? HasTrunkLabel)
{
    public const string HasTrunkLabelKey = "vpc.amazonaws.com/has-trunk-attached";

    public static NodeView Parse(JsonElement node)
    {
        var metadata = node.GetProperty("metadata");
        var capacity = node.TryGetProperty("status", out var status) && status.ValueKind == JsonValueKind.Object
            ? PodView.Map(status, "capacity") : [];
        return new NodeView(PodView.Str(metadata, "name") ?? "",
            capacity.TryGetValue(PodEni.Resource, out var c) ? c : null,
            PodView.Map(metadata, "labels").TryGetValue(HasTrunkLabelKey, out var l) ? l : null);
    }
}
