using System.Globalization;
using System.Text.Json.Nodes;

namespace BranchEni.Sandbox.Kubernetes.Tables;

/// <summary>
/// The "simple JSON path" a CRD printer column may use: fields after dots and list indexes in brackets
/// (<c>.spec.securityGroups.groupIds</c>, <c>.status.conditions[0].type</c>). Anything richer is refused when the
/// CRD is read, not silently printed empty.
/// </summary>
internal sealed class JsonPath
{
    private readonly IReadOnlyList<object> _steps;

    private JsonPath(IReadOnlyList<object> steps) => _steps = steps;

    public static JsonPath Parse(string path)
    {
        if (!path.StartsWith('.'))
        {
            throw new FormatException($"printer column path '{path}' does not start with '.'");
        }

        var steps = new List<object>();
        foreach (var part in path[1..].Split('.'))
        {
            var field = part;
            var indexes = new List<int>();
            while (field.EndsWith(']') && field.LastIndexOf('[') is var open and > 0
                && int.TryParse(field[(open + 1)..^1], NumberStyles.None, CultureInfo.InvariantCulture, out var index))
            {
                indexes.Insert(0, index);
                field = field[..open];
            }

            if (field.Length == 0 || field.AsSpan().IndexOfAny("[]*@?()$") >= 0)
            {
                throw new FormatException($"printer column path '{path}' is not a simple JSON path");
            }

            steps.Add(field);
            steps.AddRange(indexes.Cast<object>());
        }

        return new JsonPath(steps);
    }

    public JsonNode? Find(JsonObject obj)
    {
        JsonNode? node = obj;
        foreach (var step in _steps)
        {
            node = (step, node) switch
            {
                (string field, JsonObject o) => o[field],
                (int index, JsonArray a) when index < a.Count => a[index],
                _ => null,
            };
        }

        return node;
    }
}
