using System.Text.Json;
using System.Text.Json.Nodes;

namespace BranchEni.Packaging.Tests.Support;

/// <summary>
/// Checks an object against a CRD's structural OpenAPI v3 schema the way the API server treats it for what our CRD
/// uses: type, properties (an unknown field would be pruned: reported), required, additionalProperties, items,
/// minItems/maxItems.
/// </summary>
internal static class SchemaValidator
{
    public static List<string> Validate(JsonNode? value, JsonObject schema)
    {
        var errors = new List<string>();
        Check(value, schema, "", errors);
        return errors;
    }

    private static void Check(JsonNode? value, JsonObject schema, string path, List<string> errors)
    {
        var type = schema["type"]?.GetValue<string>();
        var kind = value?.GetValueKind() ?? JsonValueKind.Null;
        var fits = type switch
        {
            null => true,
            "object" => kind == JsonValueKind.Object,
            "array" => kind == JsonValueKind.Array,
            "string" => kind == JsonValueKind.String,
            "integer" => kind == JsonValueKind.Number,
            "boolean" => kind is JsonValueKind.True or JsonValueKind.False,
            _ => throw new NotSupportedException($"schema type {type}"),
        };
        if (!fits)
        {
            errors.Add($"{path}: expected {type}, got {kind}");
            return;
        }

        if (value is JsonObject o)
        {
            var properties = schema["properties"]?.AsObject();
            foreach (var required in schema["required"]?.AsArray().Select(r => r!.GetValue<string>()) ?? [])
            {
                if (!o.ContainsKey(required))
                {
                    errors.Add($"{path}.{required}: required");
                }
            }

            foreach (var (key, child) in o)
            {
                if (properties?[key] is JsonObject childSchema)
                {
                    Check(child, childSchema, $"{path}.{key}", errors);
                }
                else if (schema["additionalProperties"] is JsonObject extra)
                {
                    Check(child, extra, $"{path}.{key}", errors);
                }
                else if (properties is not null)
                {
                    // An object schema without properties (metadata) is left to the API server's own handling.
                    errors.Add($"{path}.{key}: unknown field (would be pruned)");
                }
            }
        }

        if (value is JsonArray a)
        {
            if (schema["minItems"]?.GetValue<long>() is { } min && a.Count < min)
            {
                errors.Add($"{path}: {a.Count} items, at least {min}");
            }

            if (schema["maxItems"]?.GetValue<long>() is { } max && a.Count > max)
            {
                errors.Add($"{path}: {a.Count} items, at most {max}");
            }

            for (var i = 0; i < a.Count; i++)
            {
                if (schema["items"] is JsonObject items)
                {
                    Check(a[i], items, $"{path}[{i}]", errors);
                }
            }
        }
    }
}
