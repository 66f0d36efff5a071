using System.Text.Json;
using System.Text.Json.Serialization;

namespace BranchEni.Cni.Config;

/// <summary>
/// The plugin's entry of a conflist as it arrives on stdin, field names exactly as DESIGN.md §2 (case-sensitive).
/// Every field is optional here; <see cref="PluginConfig.From"/> checks them and names the bad one.
/// </summary>
internal sealed record RawPluginConfig
{
    [JsonPropertyName("cniVersion")]
    public string? CniVersion { get; init; }

    [JsonPropertyName("name")]
    public string? Name { get; init; }

    [JsonPropertyName("type")]
    public string? Type { get; init; }

    [JsonPropertyName("kubeconfig")]
    public string? Kubeconfig { get; init; }

    [JsonPropertyName("stateDir")]
    public string? StateDir { get; init; }

    [JsonPropertyName("trunkInterface")]
    public string? TrunkInterface { get; init; }

    [JsonPropertyName("enforcingMode")]
    public string? EnforcingMode { get; init; }

    [JsonPropertyName("mtu")]
    public int? Mtu { get; init; }

    [JsonPropertyName("vethPrefix")]
    public string? VethPrefix { get; init; }

    [JsonPropertyName("annotationWaitSeconds")]
    public int? AnnotationWaitSeconds { get; init; }

    [JsonPropertyName("defaultPodMetadataAccess")]
    public string? DefaultPodMetadataAccess { get; init; }

    [JsonPropertyName("logFile")]
    public string? LogFile { get; init; }

    [JsonPropertyName("logLevel")]
    public string? LogLevel { get; init; }

    /// <summary>A whole plugin config (`type` plus its own fields), kept as JSON to hand on verbatim.</summary>
    [JsonPropertyName("delegate")]
    public JsonElement? Delegate { get; init; }

    [JsonPropertyName("prevResult")]
    public JsonElement? PrevResult { get; init; }

    /// <summary>GC's list of attachments still in use (spec 1.1.0).</summary>
    [JsonPropertyName("cni.dev/valid-attachments")]
    public List<Attachment>? ValidAttachments { get; init; }

    /// <summary>The same list under the name some runtimes used before the spec settled.</summary>
    [JsonPropertyName("cni.dev/attachments")]
    public List<Attachment>? Attachments { get; init; }
}

/// <summary>One element of GC's valid-attachments list.</summary>
internal sealed record Attachment
{
    [JsonPropertyName("containerID")]
    public string? ContainerId { get; init; }

    [JsonPropertyName("ifname")]
    public string? IfName { get; init; }
}
