using System.Text.Json.Nodes;

namespace BranchEni.Sandbox.Kubernetes;

/// <summary>The three patch formats the API server accepts (server-side apply is not emulated).</summary>
internal static class Patching
{
    public const string Merge = "application/merge-patch+json";
    public const string Strategic = "application/strategic-merge-patch+json";
    public const string Json = "application/json-patch+json";

    /// <summary>RFC 7386: objects merge recursively, null deletes, anything else replaces.</summary>
    public static JsonNode? MergePatch(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject p)
        {
            return patch?.DeepClone();
        }

        var result = target as JsonObject ?? new JsonObject();
        foreach (var (key, value) in p.ToList())
        {
            if (value is null)
            {
                result.Remove(key);
            }
            else
            {
                var existing = result[key];
                var merged = MergePatch(existing, value);
                if (!ReferenceEquals(merged, existing))
                {
                    result[key] = merged is null || merged.Parent is null ? merged : merged.DeepClone();
                }
            }
        }

        return result;
    }

    /// <summary>
    /// Strategic merge as far as the agent and kubectl need: maps merge like a merge patch, lists of objects that
    /// carry a "name" (containers, volumes) or "type" (conditions, addresses) merge by that key, other lists are
    /// replaced; "$patch: delete" removes a list element or map, and "$setElementOrder/…" directives are accepted.
    /// </summary>
    public static JsonNode? StrategicMerge(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject p)
        {
            return patch?.DeepClone();
        }

        var result = target as JsonObject ?? new JsonObject();
        foreach (var (key, value) in p.ToList())
        {
            if (key.StartsWith("$setElementOrder/", StringComparison.Ordinal) || key.StartsWith("$retainKeys", StringComparison.Ordinal))
            {
                continue;
            }

            if (value is null || (value is JsonObject o && Meta.Str(o, "$patch") == "delete"))
            {
                result.Remove(key);
            }
            else if (value is JsonArray list && result[key] is JsonArray current && MergeKey(list, current) is { } mergeKey)
            {
                result[key] = MergeList(current, list, mergeKey);
            }
            else
            {
                var existing = result[key];
                var merged = StrategicMerge(existing, value);
                if (!ReferenceEquals(merged, existing))
                {
                    result[key] = merged is null || merged.Parent is null ? merged : merged.DeepClone();
                }
            }
        }

        return result;
    }

    /// <summary>RFC 6902 operations over RFC 6901 pointers; a failed "test" or a bad path is a 422.</summary>
    public static JsonNode ApplyJsonPatch(JsonNode target, JsonArray operations)
    {
        var doc = target.DeepClone();
        foreach (var op in operations)
        {
            var kind = Meta.Str(op, "op");
            var path = Meta.Str(op, "path") ?? throw Fail("a JSON patch operation needs a path");
            switch (kind)
            {
                case "add":
                    doc = JsonPointer.Add(doc, path, op!["value"]?.DeepClone());
                    break;
                case "remove":
                    JsonPointer.Remove(doc, path);
                    break;
                case "replace":
                    JsonPointer.Remove(doc, path);
                    doc = JsonPointer.Add(doc, path, op!["value"]?.DeepClone());
                    break;
                case "test" when !JsonNode.DeepEquals(JsonPointer.Get(doc, path), op!["value"]):
                    throw Fail($"testing value {path} failed");
                case "test":
                    break;
                case "move" or "copy":
                    var from = Meta.Str(op, "from") ?? throw Fail($"{kind} needs from");
                    var value = JsonPointer.Get(doc, from)?.DeepClone();
                    if (kind == "move")
                    {
                        JsonPointer.Remove(doc, from);
                    }

                    doc = JsonPointer.Add(doc, path, value);
                    break;
                default:
                    throw Fail($"Unexpected kind: {kind}");
            }
        }

        return doc;
    }

    private static KubeException Fail(string message) => new(422, "Invalid", $"the server rejected our request due to an error in our request: {message}");

    private static string? MergeKey(JsonArray patch, JsonArray existing)
    {
        var all = patch.Concat(existing).ToList();
        foreach (var key in new[] { "name", "type" })
        {
            if (all.Count > 0 && all.All(e => e is JsonObject o && o[key] is JsonValue))
            {
                return key;
            }
        }

        return null;
    }

    private static JsonArray MergeList(JsonArray existing, JsonArray patch, string key)
    {
        var result = new JsonArray(existing.Select(e => e?.DeepClone()).ToArray());
        foreach (var item in patch.OfType<JsonObject>())
        {
            var id = Meta.Str(item, key);
            var match = result.OfType<JsonObject>().FirstOrDefault(e => Meta.Str(e, key) == id);
            if (Meta.Str(item, "$patch") == "delete")
            {
                if (match is not null)
                {
                    result.Remove(match);
                }
            }
            else if (match is null)
            {
                result.Add(item.DeepClone());
            }
            else
            {
                StrategicMerge(match, item);
            }
        }

        return result;
    }
}

/// <summary>RFC 6901 pointers over System.Text.Json nodes.</summary>
internal static class JsonPointer
{
    public static JsonNode? Get(JsonNode? doc, string path)
    {
        foreach (var token in Tokens(path))
        {
            doc = doc switch
            {
                JsonObject o when o.ContainsKey(token) => o[token],
                JsonArray a when int.TryParse(token, out var i) && i >= 0 && i < a.Count => a[i],
                _ => throw Missing(path),
            };
        }

        return doc;
    }

    public static JsonNode Add(JsonNode doc, string path, JsonNode? value)
    {
        var tokens = Tokens(path);
        if (tokens.Count == 0)
        {
            return value ?? throw Missing(path);
        }

        var parent = Get(doc, Join(tokens[..^1]));
        var last = tokens[^1];
        switch (parent)
        {
            case JsonObject o:
                o[last] = value;
                break;
            case JsonArray a when last == "-":
                a.Add(value);
                break;
            case JsonArray a when int.TryParse(last, out var i) && i >= 0 && i <= a.Count:
                a.Insert(i, value);
                break;
            default:
                throw Missing(path);
        }

        return doc;
    }

    public static void Remove(JsonNode doc, string path)
    {
        var tokens = Tokens(path);
        var parent = tokens.Count == 0 ? throw Missing(path) : Get(doc, Join(tokens[..^1]));
        var last = tokens[^1];
        switch (parent)
        {
            case JsonObject o when o.Remove(last):
                break;
            case JsonArray a when int.TryParse(last, out var i) && i >= 0 && i < a.Count:
                a.RemoveAt(i);
                break;
            default:
                throw Missing(path);
        }
    }

    private static List<string> Tokens(string path) =>
        path.Length == 0
            ? []
            : path.StartsWith('/')
                ? path[1..].Split('/').Select(t => t.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)).ToList()
                : throw Missing(path);

    private static string Join(List<string> tokens) =>
        string.Concat(tokens.Select(t => "/" + t.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal)));

    private static KubeException Missing(string path) =>
        new(422, "Invalid", $"the server rejected our request due to an error in our request: no such path {path}");
}
