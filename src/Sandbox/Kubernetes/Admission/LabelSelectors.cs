using System.Text.Json.Nodes;

namespace BranchEni.Sandbox.Kubernetes.Admission;

/// <summary>
/// metav1.LabelSelector objects (matchLabels + matchExpressions In/NotIn/Exists/DoesNotExist), as webhooks'
/// namespaceSelector and objectSelector use them. Every requirement must hold; an empty selector selects everything.
/// </summary>
internal static class LabelSelectors
{
    /// <summary>What is wrong with a selector, worded like the API server's field errors; null when it is valid.</summary>
    public static string? Problem(JsonObject? selector, string at)
    {
        if (selector is null)
        {
            return null;
        }

        if (selector["matchLabels"] is JsonNode labels && (labels is not JsonObject l || l.Any(kv => Meta.Str(kv.Value) is null)))
        {
            return $"{at}.matchLabels: Invalid value: must be a map of strings";
        }

        if (selector["matchExpressions"] is not { } expressions)
        {
            return null;
        }

        if (expressions is not JsonArray list)
        {
            return $"{at}.matchExpressions: Invalid value: must be a list";
        }

        for (var i = 0; i < list.Count; i++)
        {
            var where = $"{at}.matchExpressions[{i}]";
            var op = Meta.Str(list[i], "operator");
            var values = list[i]?["values"] as JsonArray;
            var problem = (Meta.Str(list[i], "key"), op) switch
            {
                (null or "", _) => $"{where}.key: Required value",
                (_, "In" or "NotIn") when values is not { Count: > 0 } => $"{where}.values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
                (_, "Exists" or "DoesNotExist") when values is { Count: > 0 } => $"{where}.values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                (_, "In" or "NotIn" or "Exists" or "DoesNotExist") => null,
                _ => $"{where}.operator: Invalid value: \"{op}\": not a valid selector operator",
            };
            if (problem is not null)
            {
                return problem;
            }
        }

        return null;
    }

    public static bool Matches(JsonObject? selector, IReadOnlyDictionary<string, string> labels)
    {
        if (selector is null)
        {
            return true;
        }

        foreach (var (key, value) in selector["matchLabels"] as JsonObject ?? [])
        {
            if (!labels.TryGetValue(key, out var actual) || actual != Meta.Str(value))
            {
                return false;
            }
        }

        foreach (var expression in (selector["matchExpressions"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var key = Meta.Str(expression, "key") ?? "";
            var values = (expression["values"] as JsonArray ?? []).Select(v => Meta.Str(v)).ToHashSet(StringComparer.Ordinal);
            var has = labels.TryGetValue(key, out var actual);
            var holds = Meta.Str(expression, "operator") switch
            {
                "In" => has && values.Contains(actual),
                "NotIn" => !has || !values.Contains(actual),
                "Exists" => has,
                "DoesNotExist" => !has,
                _ => false,
            };
            if (!holds)
            {
                return false;
            }
        }

        return true;
    }
}
