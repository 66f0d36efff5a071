using System.Text.Json.Serialization;

namespace BranchEni.Cni.Selection;

/// <summary>What the selector needs to know about a pod from the API (branch-eni-kube prints it as JSON): its UID, its
/// pod-eni annotation, whether it must have a branch ENI (<see cref="Reason"/> says why, or why not), and whether it may
/// reach the instance metadata service ("Allowed" or "Denied", by src/Policy MetadataAccessPolicy; absent: Denied).</summary>
internal sealed record PodFacts(string? Uid, string? Annotation, bool NeedsBranch, string? Reason, string? MetadataAccess = null);

/// <summary>branch-eni-kube's answer when it cannot read the pod: the CNI error it stands for.</summary>
internal sealed record PodReadError(int Code, string Msg, string? Details);

/// <summary>The JSON between the CNI and branch-eni-kube.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(PodFacts))]
[JsonSerializable(typeof(PodReadError))]
internal sealed partial class PodReaderJsonContext : JsonSerializerContext;
