using System.Text.Json.Serialization;

namespace BranchEni.Agent.Configuration;

/// <summary>Source-generated JSON for the agent's own documents (AOT: no reflection).</summary>
[JsonSourceGenerationOptions(WriteIndented = false, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(InstanceLimitsDocument))]
[JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class AgentJsonContext : JsonSerializerContext;
