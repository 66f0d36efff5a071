using System.Text.Json.Serialization;

namespace BranchEni.Agent.Cli;

// The JSON the debug commands print with --output json. Field names are a stable interface (docs/cli.md): add
// fields, never rename or remove them. Null means "not known" (for example the agent is unreachable).

internal sealed record StatusReport(
    TrunkStatus Trunk, int? Capacity, string? CapacitySource, IReadOnlyList<int> VlansUsed, IReadOnlyList<int> VlanLinks,
    int? VlansFree, CniStatus Cni, string Mode, string ModeSource, AgentHealth Agent, int PodRecords, int InvalidRecords);

internal sealed record TrunkStatus(string? EniId, string? Mac, string? Link, string State, string? Error);

internal sealed record CniStatus(string Binary, bool BinaryInstalled, string Conflist, bool ConflistInstalled, string? ConflistError, string VethPrefix);

internal sealed record PodsReport(string Mode, string ModeSource, IReadOnlyList<PodRow> Pods);

internal sealed record PodRow
{
    public string? Namespace { get; init; }

    public string? Name { get; init; }

    public string? Uid { get; init; }

    public string? EniId { get; init; }

    public int? VlanId { get; init; }

    public string? Ip { get; init; }

    public string? Mac { get; init; }

    public string? HostVeth { get; init; }

    public int? Table { get; init; }

    /// <summary>strict or standard as the pod's rules show it; null when it has none.</summary>
    public string? Mode { get; init; }

    public string? ContainerId { get; init; }

    public string? PodNetns { get; init; }

    /// <summary>Allowed or Denied: whether the record lets the pod reach the instance metadata service (null when the
    /// record is invalid or absent); `verify` checks the kernel agrees.</summary>
    public string? MetadataAccess { get; init; }

    /// <summary>ok, invalid (the record does not parse) or none (kernel plumbing without a record).</summary>
    public required string Record { get; init; }

    /// <summary>ok, differs, absent (no plumbing yet) or orphan (plumbing without a live owner).</summary>
    public required string Kernel { get; init; }

    /// <summary>agrees, differs: ..., absent, or unknown (no KUBECONFIG, or the API server unreachable).</summary>
    public required string Annotation { get; init; }

    public required IReadOnlyList<string> Differences { get; init; }
}

/// <summary><see cref="MetadataAccess"/>: the named pod's record (Allowed|Denied) when POD is given, else null.</summary>
internal sealed record VerifyReport(string? Pod, string Mode, string ModeSource, int PodsChecked, bool Ok, IReadOnlyList<Difference> Differences,
    string? MetadataAccess);

/// <summary>One difference; <see cref="Pod"/> is "namespace/name" (or the record's UID), null for the node itself.</summary>
internal sealed record Difference(string? Pod, string? Uid, string Message);

internal sealed record CleanupReport(bool DryRun, bool Ok, IReadOnlyList<CleanupEntry> Actions);

/// <summary>One removal: kind link|rule|route; done is false in a dry run or when it failed (error says why).</summary>
internal sealed record CleanupEntry(string Kind, string Object, string Reason, bool Done, string? Error);

/// <summary>Source-generated JSON for the reports (native AOT).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(StatusReport))]
[JsonSerializable(typeof(PodsReport))]
[JsonSerializable(typeof(VerifyReport))]
[JsonSerializable(typeof(CleanupReport))]
internal sealed partial class CliJsonContext : JsonSerializerContext;
