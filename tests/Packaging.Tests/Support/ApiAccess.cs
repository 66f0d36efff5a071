using System.Text.Json.Nodes;

namespace BranchEni.Packaging.Tests.Support;

/// <summary>
/// What RBAC authorizes for one request, as the API server derives it from the URL: verb, API group, resource and
/// subresource ("nodes/status"). Written as "verb group/resource" with "" for the core group: "patch /nodes/status".
/// </summary>
internal sealed record ApiAccess(string Verb, string Group, string Resource)
{
    public override string ToString() => $"{Verb} {Group}/{Resource}";

    /// <summary>The access a request needs; null for non-resource URLs (/version, /api, /apis, discovery).</summary>
    public static ApiAccess? FromRequest(string method, string pathAndQuery)
    {
        var split = pathAndQuery.Split('?', 2);
        var segments = split[0].Split('/', StringSplitOptions.RemoveEmptyEntries);
        var query = split.Length > 1 ? System.Web.HttpUtility.ParseQueryString(split[1]) : [];
        var (group, rest) = segments switch
        {
            ["api", "v1", .. var r] when r.Length > 0 => ("", r),
            ["apis", var g, _, .. var r] when r.Length > 0 => (g, r),
            _ => ((string?)null, Array.Empty<string>()),
        };
        if (group is null)
        {
            return null;
        }

        // namespaces/NS/<plural>[/name[/sub]] is namespaced; namespaces[/NAME[/sub]] is the namespace object itself.
        var (resource, name, sub) = rest switch
        {
            ["namespaces", _, var plural, .. var tail] => (plural, tail.ElementAtOrDefault(0), tail.ElementAtOrDefault(1)),
            [var plural, .. var tail] => (plural, tail.ElementAtOrDefault(0), tail.ElementAtOrDefault(1)),
            _ => throw new InvalidDataException($"unreadable API path {pathAndQuery}"),
        };
        var watch = query["watch"] is "true" or "1";
        var verb = (method, name) switch
        {
            ("GET", null) => watch ? "watch" : "list",
            ("GET", _) => watch ? "watch" : "get",
            ("POST", _) => "create",
            ("PUT", _) => "update",
            ("PATCH", _) => "patch",
            ("DELETE", null) => "deletecollection",
            ("DELETE", _) => "delete",
            _ => throw new InvalidDataException($"unexpected method {method} {pathAndQuery}"),
        };
        return new ApiAccess(verb, group, sub is null ? resource : $"{resource}/{sub}");
    }

    /// <summary>Every (verb, group, resource) a ClusterRole's rules grant; wildcards are refused (least privilege).</summary>
    public static IReadOnlySet<ApiAccess> Granted(JsonObject clusterRole)
    {
        var granted = new HashSet<ApiAccess>();
        foreach (var rule in clusterRole["rules"]!.AsArray().Select(r => r!.AsObject()))
        {
            if (rule["nonResourceURLs"] is not null || rule["resourceNames"] is not null)
            {
                throw new InvalidDataException("the agent's role has no nonResourceURLs or resourceNames rules");
            }

            foreach (var group in Strings(rule, "apiGroups"))
            foreach (var resource in Strings(rule, "resources"))
            foreach (var verb in Strings(rule, "verbs"))
            {
                if (group == "*" || resource == "*" || verb == "*")
                {
                    throw new InvalidDataException($"wildcard in rule {rule.ToJsonString()}");
                }

                granted.Add(new ApiAccess(verb, group, resource));
            }
        }

        return granted;
    }

    private static IEnumerable<string> Strings(JsonObject o, string key) => o[key]!.AsArray().Select(s => s!.GetValue<string>());
}
