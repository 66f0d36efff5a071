using System.Text.Json.Serialization;

namespace BranchEni.Agent.Kubernetes;

internal sealed record PodAnnotationPatchMetadata(
    [property: JsonPropertyName("uid")] string Uid,
    [property: JsonPropertyName("annotations")] Dictionary<string, string> Annotations);

internal sealed record PodAnnotationPatch([property: JsonPropertyName("metadata")] PodAnnotationPatchMetadata Metadata);

/// <summary>A merge patch of the pod's labels: a null value removes the label.</summary>
internal sealed record PodLabelPatchMetadata(
    [property: JsonPropertyName("uid")] string Uid,
    [property: JsonPropertyName("labels")] Dictionary<string, string?> Labels);

internal sealed record PodLabelPatch([property: JsonPropertyName("metadata")] PodLabelPatchMetadata Metadata);

/// <summary>Source-generated JSON for the patch bodies the agent sends.</summary>
[JsonSerializable(typeof(PodAnnotationPatch))]
[JsonSerializable(typeof(PodLabelPatch))]
[JsonSerializable(typeof(Dictionary<string, Dictionary<string, Dictionary<string, string>>>))]
internal sealed partial class KubeJsonContext : JsonSerializerContext;
