using System.Globalization;
using System.Text.Json.Nodes;

namespace BranchEni.Sandbox.Kubernetes;

/// <summary>Reading an object's metadata without a typed model (objects are kept as JSON, like unstructured).</summary>
internal static class Meta
{
    public static JsonObject Metadata(JsonObject obj)
    {
        if (obj["metadata"] is JsonObject m)
        {
            return m;
        }

        var created = new JsonObject();
        obj["metadata"] = created;
        return created;
    }

    public static string Name(JsonObject obj) => Str(obj, "metadata", "name") ?? "";

    public static string Namespace(JsonObject obj) => Str(obj, "metadata", "namespace") ?? "";

    public static long Revision(JsonObject obj) =>
        long.TryParse(Str(obj, "metadata", "resourceVersion"), NumberStyles.None, CultureInfo.InvariantCulture, out var rv) ? rv : 0;

    public static Dictionary<string, string> Labels(JsonObject obj) =>
        (obj["metadata"]?["labels"] as JsonObject)?
            .Where(kv => kv.Value is JsonValue)
            .ToDictionary(kv => kv.Key, kv => kv.Value!.ToString(), StringComparer.Ordinal)
        ?? [];

    /// <summary>A string (or number/bool rendered as text) at a path, null when absent.</summary>
    public static string? Str(JsonNode? node, params string[] path)
    {
        foreach (var p in path)
        {
            node = node is JsonObject o ? o[p] : null;
        }

        return node switch
        {
            JsonValue v when v.TryGetValue<string>(out var s) => s,
            JsonValue v => v.ToJsonString(),
            _ => null,
        };
    }

    /// <summary>Output options: plain quotes in strings (annotations hold JSON), as the real server writes them.</summary>
    public static readonly System.Text.Json.JsonSerializerOptions Output = new()
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static string Now() => DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
