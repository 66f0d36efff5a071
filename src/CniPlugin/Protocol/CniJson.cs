using System.Text.Json;
using System.Text.Json.Serialization;
using BranchEni.Cni.Config;

namespace BranchEni.Cni.Protocol;

/// <summary>The error object written to stdout on failure (spec "Error" section).</summary>
internal sealed record ErrorReply(
    [property: JsonPropertyName("cniVersion")] string CniVersion,
    [property: JsonPropertyName("code")] int Code,
    [property: JsonPropertyName("msg")] string Msg,
    [property: JsonPropertyName("details")] string? Details);

/// <summary>Source-generated JSON for every type the plugin reads or writes (native AOT: no reflection).</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ErrorReply))]
[JsonSerializable(typeof(CniResult))]
[JsonSerializable(typeof(RawPluginConfig))]
[JsonSerializable(typeof(JsonElement))]
internal sealed partial class CniJsonContext : JsonSerializerContext;
