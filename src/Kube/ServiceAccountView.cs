using System.Text.Json;

namespace BranchEni.Kube;

/// <summary>A service account's labels (for a SecurityGroupPolicy's serviceAccountSelector).</summary>
public sealed record ServiceAccountView(string Namespace, string Name, IReadOnlyDictionary<string, string> Labels)
{
    public static ServiceAccountView Parse(JsonElement sa)
    {
        var metadata = sa.GetProperty("metadata");
        return new ServiceAccountView(ObjectFields.Str(metadata, "namespace") ?? "", ObjectFields.Str(metadata, "name") ?? "", ObjectFields.Map(metadata, "labels"));
    }
}

/// <summary>Reading fields of API objects straight from their JSON (no full model kept).</summary>
public static class ObjectFields
{
    public static string? Str(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    public static Dictionary<string, string> Map(JsonElement obj, string name)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        if (obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in v.EnumerateObject())
            {
                // Quantities may come as numbers in hand-written objects; keep their text.
                map[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText();
            }
        }

        return map;
    }
}
