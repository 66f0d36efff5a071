using System.Text.Json.Nodes;

namespace BranchEni.Sandbox.Kubernetes;

/// <summary>
/// labelSelector and fieldSelector as the API server parses them: comma-separated requirements that all must
/// hold. Labels: k=v, k==v, k!=v, k in (a,b), k notin (a,b), k, !k. Fields: path=v, path==v, path!=v over the
/// field labels each resource supports (an unsupported field is a 400, as on a real server).
/// </summary>
internal static class Selectors
{
    private static readonly string[] CommonFields = ["metadata.name", "metadata.namespace"];

    private static readonly Dictionary<ResourceType, string[]> ExtraFields = new()
    {
        [ResourceTypes.Pods] = ["spec.nodeName", "spec.serviceAccountName", "spec.restartPolicy", "spec.schedulerName", "status.phase", "status.podIP", "status.nominatedNodeName"],
        [ResourceTypes.Nodes] = ["spec.unschedulable"],
        [ResourceTypes.Namespaces] = ["status.phase"],
        [ResourceTypes.Events] = ["involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"],
    };

    public static Func<JsonObject, bool> Compile(ResourceType type, string? labelSelector, string? fieldSelector)
    {
        var labels = string.IsNullOrWhiteSpace(labelSelector) ? [] : Split(labelSelector).Select(ParseLabel).ToList();
        var fields = string.IsNullOrWhiteSpace(fieldSelector) ? [] : Split(fieldSelector).Select(t => ParseField(type, t)).ToList();
        return obj =>
        {
            var objLabels = Meta.Labels(obj);
            return labels.All(l => l(objLabels)) && fields.All(f => f(obj));
        };
    }

    private static List<string> Split(string selector)
    {
        var parts = new List<string>();
        var depth = 0;
        var start = 0;
        for (var i = 0; i < selector.Length; i++)
        {
            depth += selector[i] switch { '(' => 1, ')' => -1, _ => 0 };
            if (selector[i] == ',' && depth == 0)
            {
                parts.Add(selector[start..i].Trim());
                start = i + 1;
            }
        }

        parts.Add(selector[start..].Trim());
        return parts.Where(p => p.Length > 0).ToList();
    }

    private static Func<Dictionary<string, string>, bool> ParseLabel(string term)
    {
        var words = term.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length >= 2 && words[1] is "in" or "notin")
        {
            var set = string.Join(' ', words[2..]).Trim();
            if (!set.StartsWith('(') || !set.EndsWith(')'))
            {
                throw KubeException.BadRequest($"unable to parse requirement: found '{set}', expected: '('");
            }

            var values = set[1..^1].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
            var key = words[0];
            return words[1] == "in"
                ? l => l.TryGetValue(key, out var v) && values.Contains(v)
                : l => !l.TryGetValue(key, out var v) || !values.Contains(v);
        }

        var (k, op, value) = SplitOperator(term);
        return op switch
        {
            "=" or "==" => l => l.TryGetValue(k, out var v) && v == value,
            "!=" => l => !l.TryGetValue(k, out var v) || v != value,
            null when k.StartsWith('!') => l => !l.ContainsKey(k[1..]),
            null => l => l.ContainsKey(k),
            _ => throw KubeException.BadRequest($"unable to parse requirement: {term}"),
        };
    }

    private static Func<JsonObject, bool> ParseField(ResourceType type, string term)
    {
        var (path, op, value) = SplitOperator(term);
        if (op is null)
        {
            throw KubeException.BadRequest($"invalid selector: '{term}'; can't understand '{term}'");
        }

        if (!CommonFields.Contains(path) && !(ExtraFields.GetValueOrDefault(type)?.Contains(path) ?? false))
        {
            throw KubeException.BadRequest($"field label not supported: {path}");
        }

        var segments = path.Split('.');
        return op == "!="
            ? o => (Meta.Str(o, segments) ?? "") != value
            : o => (Meta.Str(o, segments) ?? "") == value;
    }

    private static (string Key, string? Op, string Value) SplitOperator(string term)
    {
        foreach (var op in new[] { "!=", "==", "=" })
        {
            var at = term.IndexOf(op, StringComparison.Ordinal);
            if (at > 0)
            {
                return (term[..at].Trim(), op, term[(at + op.Length)..].Trim());
            }
        }

        return (term.Trim(), null, "");
    }
}
