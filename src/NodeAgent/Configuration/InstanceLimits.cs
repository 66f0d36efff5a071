using System.Text.Json;
using System.Text.Json.Serialization;

namespace BranchEni.Agent.Configuration;

/// <summary>What one instance type allows. <see cref="Branches"/> null or 0: no trunking.</summary>
internal sealed record InstanceTypeLimit
{
    /// <summary>ENIs the instance can attach; null when the table does not say (attach after the highest in use).</summary>
    [JsonPropertyName("interfaces")]
    public int? Interfaces { get; init; }

    [JsonPropertyName("branches")]
    public int? Branches { get; init; }

    /// <summary>False marks a type that cannot carry a trunk at all (t3, t2, m4).</summary>
    [JsonPropertyName("trunking")]
    public bool? Trunking { get; init; }

    public bool SupportsTrunking => Trunking != false && Branches is > 0;
}

internal sealed record InstanceLimitsDocument
{
    [JsonPropertyName("types")]
    public Dictionary<string, InstanceTypeLimit>? Types { get; init; }
}

/// <summary>
/// The instance-type table (one data file, `instance-limits.json`, embedded) plus an operator file merged over it,
/// so a new instance type needs no rebuild. Lookup: exact type, then its family wildcard ("t3.*").
/// </summary>
internal sealed class InstanceLimits
{
    private readonly Dictionary<string, InstanceTypeLimit> _types;

    private InstanceLimits(Dictionary<string, InstanceTypeLimit> types) => _types = types;

    public static InstanceLimits Load(string? overrideFile)
    {
        using var stream = typeof(InstanceLimits).Assembly.GetManifestResourceStream("instance-limits.json")
            ?? throw new InvalidOperationException("instance-limits.json is not embedded in the agent");
        var types = Parse(stream, "built-in instance-limits.json");
        if (overrideFile is not null)
        {
            using var file = File.OpenRead(overrideFile);
            foreach (var (name, limit) in Parse(file, overrideFile))
            {
                types[name] = limit;
            }
        }

        return new InstanceLimits(types);
    }

    /// <summary>The limits for an instance type, or null when the table does not know it.</summary>
    public InstanceTypeLimit? Find(string instanceType)
    {
        if (_types.TryGetValue(instanceType, out var exact))
        {
            return exact;
        }

        var dot = instanceType.IndexOf('.', StringComparison.Ordinal);
        return dot > 0 && _types.TryGetValue(string.Concat(instanceType.AsSpan(0, dot), ".*"), out var family) ? family : null;
    }

    private static Dictionary<string, InstanceTypeLimit> Parse(Stream stream, string source)
    {
        InstanceLimitsDocument? document;
        try
        {
            document = JsonSerializer.Deserialize(stream, AgentJsonContext.Default.InstanceLimitsDocument);
        }
        catch (JsonException e)
        {
            throw new OptionsException($"{source} is not an instance limits table: {e.Message}");
        }

        var types = new Dictionary<string, InstanceTypeLimit>(StringComparer.Ordinal);
        foreach (var (name, limit) in document?.Types ?? throw new OptionsException($"{source} has no \"types\" object"))
        {
            if (limit is null || limit.Branches is < 0 or > Contracts.BranchEniParser.MaxVlanId || limit.Interfaces is < 1)
            {
                throw new OptionsException($"{source}: \"{name}\" needs branches in 0..4094 and interfaces >= 1");
            }

            types[name] = limit;
        }

        return types;
    }
}
