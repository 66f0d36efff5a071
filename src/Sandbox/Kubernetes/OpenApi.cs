using System.Text.Json.Nodes;

namespace BranchEni.Sandbox.Kubernetes;

/// <summary>
/// A minimal OpenAPI v3 index: per group-version, the PATCH operations tagged with their kind and the
/// fieldValidation query parameter. kubectl (apply, create) reads exactly this to decide that the server
/// validates fields itself; without it kubectl insists on downloading full schemas. No schemas are served.
/// </summary>
internal static class OpenApi
{
    public static JsonObject Root()
    {
        var paths = new JsonObject();
        foreach (var gv in ResourceTypes.All.Select(t => t.GroupVersion).Distinct())
        {
            var key = gv == "v1" ? "api/v1" : $"apis/{gv}";
            paths[key] = new JsonObject { ["serverRelativeURL"] = $"/openapi/v3/{key}?hash=sandbox" };
        }

        return new JsonObject { ["paths"] = paths };
    }

    public static JsonObject? GroupVersion(string key)
    {
        var gv = key == "api/v1" ? "v1" : key.StartsWith("apis/", StringComparison.Ordinal) ? key[5..] : null;
        var types = ResourceTypes.All.Where(t => t.GroupVersion == gv).ToList();
        if (types.Count == 0)
        {
            return null;
        }

        var paths = new JsonObject();
        foreach (var t in types)
        {
            var prefix = t.Group.Length == 0 ? "/api/v1" : $"/apis/{t.GroupVersion}";
            var item = t.Namespaced ? $"{prefix}/namespaces/{{namespace}}/{t.Plural}/{{name}}" : $"{prefix}/{t.Plural}/{{name}}";
            paths[item] = new JsonObject
            {
                ["patch"] = new JsonObject
                {
                    ["operationId"] = $"patch{t.Kind}",
                    ["parameters"] = new JsonArray(
                        new JsonObject { ["name"] = "fieldValidation", ["in"] = "query", ["schema"] = new JsonObject { ["type"] = "string" } },
                        new JsonObject { ["name"] = "dryRun", ["in"] = "query", ["schema"] = new JsonObject { ["type"] = "string" } }),
                    ["responses"] = new JsonObject { ["200"] = new JsonObject { ["description"] = "OK" } },
                    ["x-kubernetes-action"] = "patch",
                    ["x-kubernetes-group-version-kind"] = new JsonObject { ["group"] = t.Group, ["version"] = t.Version, ["kind"] = t.Kind },
                },
            };
        }

        return new JsonObject
        {
            ["openapi"] = "3.0.0",
            ["info"] = new JsonObject { ["title"] = "Kubernetes", ["version"] = "v1.32.0" },
            ["paths"] = paths,
            ["components"] = new JsonObject { ["schemas"] = new JsonObject() },
        };
    }
}
