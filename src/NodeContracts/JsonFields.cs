using System.Text.Json;

namespace BranchEni.Contracts;

/// <summary>
/// The primitives of the hand-written readers the CNI uses on every ADD and DEL (see <see cref="ContractsJsonCodec"/>).
/// They decode exactly what the source-generated contexts decode (case-sensitive names, the last duplicate wins,
/// unknown fields skipped, null for an absent or null field, strict numbers, no comments) and fail with a
/// <see cref="JsonException"/> whose <see cref="JsonException.Path"/> names the field, as the contexts' do.
/// </summary>
/// <remarks>
/// Why not the contexts: a source-generated JsonTypeInfo is built on first use in each process, which reflects over
/// each type's attributes and loads generic array types at run time. The plugin is a new process per call, so that
/// first use was a quarter of an ADD in the bench (docs/benchmarks.md). The contexts stay the declared shape of every
/// type, and tests hold these readers to them.
/// </remarks>
internal static class JsonFields
{
    /// <summary>Reads the top-level value: true at an object's start, false for JSON null.</summary>
    public static bool Begin(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.Null)
        {
            return false;
        }

        Expect(ref reader, JsonTokenType.StartObject, "$", null);
        return true;
    }

    /// <summary>After the top-level value: anything but whitespace is an error (the reader throws on it).</summary>
    public static void End(ref Utf8JsonReader reader)
    {
        if (reader.Read())
        {
            throw new JsonException("the JSON value has content after its end", "$", null, null);
        }
    }

    /// <summary>Moves to the next property name of the object being read; false at the object's end.</summary>
    public static bool NextProperty(ref Utf8JsonReader reader)
    {
        reader.Read();
        return reader.TokenType == JsonTokenType.PropertyName;
    }

    /// <summary>From a property name, skips its value (a field this reader does not know).</summary>
    public static void Skip(ref Utf8JsonReader reader) => reader.Skip();

    public static string? String(ref Utf8JsonReader reader, string path, string field)
    {
        reader.Read();
        return reader.TokenType switch
        {
            JsonTokenType.Null => null,
            JsonTokenType.String => reader.GetString(),
            _ => throw Mismatch(reader.TokenType, "a string", Child(path, field)),
        };
    }

    public static int? Int(ref Utf8JsonReader reader, string path, string field)
    {
        reader.Read();
        return reader.TokenType switch
        {
            JsonTokenType.Null => null,
            JsonTokenType.Number when reader.TryGetInt32(out var value) => value,
            _ => throw Mismatch(reader.TokenType, "a 32-bit integer", Child(path, field)),
        };
    }

    public static bool? Bool(ref Utf8JsonReader reader, string path, string field)
    {
        reader.Read();
        return reader.TokenType switch
        {
            JsonTokenType.Null => null,
            JsonTokenType.True => true,
            JsonTokenType.False => false,
            _ => throw Mismatch(reader.TokenType, "a boolean", Child(path, field)),
        };
    }

    /// <summary>Any value, kept whole (a nested plugin configuration, a result passed through); null for JSON null.</summary>
    public static JsonElement? Element(ref Utf8JsonReader reader)
    {
        reader.Read();
        return reader.TokenType == JsonTokenType.Null ? null : JsonElement.ParseValue(ref reader);
    }

    /// <summary>From a property name, moves onto its value: true at an object's start, false for JSON null.</summary>
    public static bool Object(ref Utf8JsonReader reader, string path)
    {
        reader.Read();
        return reader.TokenType != JsonTokenType.Null && Expect(ref reader, JsonTokenType.StartObject, path, "an object");
    }

    /// <summary>From a property name, moves onto its value: true at an array's start, false for JSON null.</summary>
    public static bool Array(ref Utf8JsonReader reader, string path)
    {
        reader.Read();
        return reader.TokenType != JsonTokenType.Null && Expect(ref reader, JsonTokenType.StartArray, path, "an array");
    }

    /// <summary>Moves to the next element of the array being read: true at an object's start, false for a null
    /// element (set <paramref name="end"/> false) or the array's end (<paramref name="end"/> true).</summary>
    public static bool NextElement(ref Utf8JsonReader reader, string path, out bool end)
    {
        reader.Read();
        end = reader.TokenType == JsonTokenType.EndArray;
        return !end && reader.TokenType != JsonTokenType.Null && Expect(ref reader, JsonTokenType.StartObject, path, "an object");
    }

    /// <summary>The JSON path of a field below <paramref name="path"/>, written as System.Text.Json writes it.</summary>
    public static string Child(string path, string field) =>
        field.AsSpan().IndexOfAny(". '[]") >= 0 ? $"{path}['{field}']" : $"{path}.{field}";

    private static bool Expect(ref Utf8JsonReader reader, JsonTokenType token, string path, string? what) =>
        reader.TokenType == token ? true : throw Mismatch(reader.TokenType, what ?? "an object", path);

    private static JsonException Mismatch(JsonTokenType found, string expected, string path) =>
        new($"the JSON value at {path} must be {expected}, not {found}", path, null, null);
}
