using System.Text.Json;

namespace BranchEni.Policy;

/// <summary>One matchExpressions entry: key, operator In/NotIn/Exists/DoesNotExist, values.</summary>
public sealed record SelectorRequirement(string Key, string Operator, IReadOnlyList<string> Values);

/// <summary>
/// A Kubernetes LabelSelector (matchLabels AND matchExpressions). An empty selector matches every object, as in
/// Kubernetes; "no selector" is represented by null at the caller.
/// </summary>
public sealed record LabelSelector(IReadOnlyDictionary<string, string> MatchLabels, IReadOnlyList<SelectorRequirement> MatchExpressions)
{
    public bool Matches(IReadOnlyDictionary<string, string>? labels)
    {
        labels ??= new Dictionary<string, string>();
        foreach (var (key, value) in MatchLabels)
        {
            if (!labels.TryGetValue(key, out var actual) || actual != value)
            {
                return false;
            }
        }

        foreach (var requirement in MatchExpressions)
        {
            var present = labels.TryGetValue(requirement.Key, out var actual);
            var ok = requirement.Operator switch
            {
                "In" => present && requirement.Values.Contains(actual!),
                // Kubernetes: NotIn also matches objects without the key.
                "NotIn" => !present || !requirement.Values.Contains(actual!),
                "Exists" => present,
                "DoesNotExist" => !present,
                _ => false,
            };
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Parses a LabelSelector object; <paramref name="path"/> names it in errors ("spec.podSelector").</summary>
    public static LabelSelector Parse(JsonElement element, string path)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new PolicyFormatException($"{path} is not an object");
        }

        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (element.TryGetProperty("matchLabels", out var matchLabels) && matchLabels.ValueKind != JsonValueKind.Null)
        {
            if (matchLabels.ValueKind != JsonValueKind.Object)
            {
                throw new PolicyFormatException($"{path}.matchLabels is not an object");
            }

            foreach (var label in matchLabels.EnumerateObject())
            {
                labels[label.Name] = label.Value.ValueKind == JsonValueKind.String
                    ? label.Value.GetString()!
                    : throw new PolicyFormatException($"{path}.matchLabels.{label.Name} is not a string");
            }
        }

        var expressions = new List<SelectorRequirement>();
        if (element.TryGetProperty("matchExpressions", out var matchExpressions) && matchExpressions.ValueKind != JsonValueKind.Null)
        {
            if (matchExpressions.ValueKind != JsonValueKind.Array)
            {
                throw new PolicyFormatException($"{path}.matchExpressions is not an array");
            }

            var i = 0;
            foreach (var item in matchExpressions.EnumerateArray())
            {
                expressions.Add(ParseRequirement(item, $"{path}.matchExpressions[{i++}]"));
            }
        }

        return new LabelSelector(labels, expressions);
    }

    private static SelectorRequirement ParseRequirement(JsonElement item, string path)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            throw new PolicyFormatException($"{path} is not an object");
        }

        var key = StringProperty(item, "key", path) ?? throw new PolicyFormatException($"{path}.key is missing");
        var op = StringProperty(item, "operator", path) ?? throw new PolicyFormatException($"{path}.operator is missing");
        var values = new List<string>();
        if (item.TryGetProperty("values", out var v) && v.ValueKind != JsonValueKind.Null)
        {
            if (v.ValueKind != JsonValueKind.Array)
            {
                throw new PolicyFormatException($"{path}.values is not an array");
            }

            foreach (var value in v.EnumerateArray())
            {
                values.Add(value.ValueKind == JsonValueKind.String ? value.GetString()! : throw new PolicyFormatException($"{path}.values holds a non-string"));
            }
        }

        // The API server's own validation: In/NotIn need values, Exists/DoesNotExist must have none.
        switch (op)
        {
            case "In" or "NotIn" when values.Count == 0:
                throw new PolicyFormatException($"{path}: operator {op} needs at least one value");
            case "Exists" or "DoesNotExist" when values.Count != 0:
                throw new PolicyFormatException($"{path}: operator {op} takes no values");
            case "In" or "NotIn" or "Exists" or "DoesNotExist":
                break;
            default:
                throw new PolicyFormatException($"{path}.operator '{op}' is not In, NotIn, Exists or DoesNotExist");
        }

        return new SelectorRequirement(key, op, values);
    }

    public static string? StringProperty(JsonElement element, string name, string path)
    {
        if (!element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String ? value.GetString() : throw new PolicyFormatException($"{path}.{name} is not a string");
    }
}

/// <summary>A SecurityGroupPolicy (or part of one) is malformed; the message names the field.</summary>
public sealed class PolicyFormatException(string message) : Exception(message);
