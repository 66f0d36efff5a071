using System.Text.Json.Serialization;

namespace BranchEni.Contracts;

/// <summary>
/// One element of the `vpc.amazonaws.com/pod-eni` pod annotation (DESIGN.md §2), field names exactly as EKS writes
/// them (case-sensitive). Raw strings: <see cref="BranchEniParser"/> turns them into checked values.
/// </summary>
/// <remarks>Compiled into both the CNI and the agent (the agent links this folder): one definition of the contract.</remarks>
internal record BranchEniInfo
{
    [JsonPropertyName("eniId")]
    public string? EniId { get; init; }

    /// <summary>The branch ENI's MAC address.</summary>
    [JsonPropertyName("ifAddress")]
    public string? IfAddress { get; init; }

    [JsonPropertyName("privateIp")]
    public string? PrivateIp { get; init; }

    [JsonPropertyName("ipv6Addr")]
    public string? Ipv6Addr { get; init; }

    [JsonPropertyName("vlanId")]
    public int? VlanId { get; init; }

    [JsonPropertyName("subnetCidr")]
    public string? SubnetCidr { get; init; }

    [JsonPropertyName("subnetV6Cidr")]
    public string? SubnetV6Cidr { get; init; }

    [JsonPropertyName("associationID")]
    public string? AssociationId { get; init; }
}

/// <summary>
/// The node-local record `pods/&lt;pod-uid&gt;.json`: one annotation element plus the pod it belongs to. When it exists
/// for a pod UID it is authoritative over the annotation.
/// </summary>
internal sealed record PodRecord : BranchEniInfo
{
    [JsonPropertyName("podNamespace")]
    public string? PodNamespace { get; init; }

    [JsonPropertyName("podName")]
    public string? PodName { get; init; }

    [JsonPropertyName("podUid")]
    public string? PodUid { get; init; }

    /// <summary>
    /// "Allowed" or "Denied": whether the pod may reach the instance metadata service (decided by the agent from the
    /// pod's label and the cluster default, src/Policy MetadataAccessPolicy). Absent in records written before the
    /// field existed: those pods were given access, so absent reads as Allowed.
    /// </summary>
    [JsonPropertyName("metadataAccess")]
    public string? MetadataAccess { get; init; }
}

/// <summary>The node-local record `trunk.json`: the trunk ENI and the host link that carries it.</summary>
internal sealed record TrunkRecord(
    [property: JsonPropertyName("eniId")] string EniId,
    [property: JsonPropertyName("macAddress")] string MacAddress,
    [property: JsonPropertyName("linkName")] string? LinkName);

/// <summary>
/// The node-local record `decisions/&lt;pod-uid&gt;.json`: the agent's decision, from its informers, whether a pod of its
/// node must have a branch ENI (<c>branch</c> true: the CNI waits for `pods/&lt;uid&gt;.json` and never delegates) or
/// not (false: the CNI delegates without reading the API). Written as soon as the agent sees the pod, normally before
/// kubelet creates the sandbox; without one the CNI decides from the API itself, failing closed.
/// </summary>
internal sealed record PodDecision(
    [property: JsonPropertyName("podUid")] string? PodUid,
    [property: JsonPropertyName("podNamespace")] string? PodNamespace,
    [property: JsonPropertyName("podName")] string? PodName,
    [property: JsonPropertyName("branch")] bool? Branch,
    [property: JsonPropertyName("reason")] string? Reason);

/// <summary>Source-generated JSON for the contract types (native AOT in the CNI).</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.Never, WriteIndented = false)]
[JsonSerializable(typeof(BranchEniInfo))]
[JsonSerializable(typeof(List<BranchEniInfo>))]
[JsonSerializable(typeof(PodRecord))]
[JsonSerializable(typeof(TrunkRecord))]
[JsonSerializable(typeof(PodDecision))]
internal sealed partial class ContractsJsonContext : JsonSerializerContext;
