using System.Text.Json.Nodes;

namespace BranchEni.Sandbox.Kubernetes;

/// <summary>The discovery documents kubectl and clients read before anything else (/version, /api, /apis, resource lists).</summary>
internal static class Discovery
{
    public static JsonObject Version() => new()
    {
        ["major"] = "1",
        ["minor"] = "32",
        ["gitVersion"] = "v1.32.0-branch-eni-sandbox",
        ["gitCommit"] = "0000000000000000000000000000000000000000",
        ["gitTreeState"] = "clean",
        ["buildDate"] = "2026-01-01T00:00:00Z",
        ["goVersion"] = "go1.23",
        ["compiler"] = "gc",
        ["platform"] = "linux/amd64",
    };

    public static JsonObject CoreVersions(string host) => new()
    {
        ["kind"] = "APIVersions",
        ["versions"] = new JsonArray("v1"),
        ["serverAddressByClientCIDRs"] = new JsonArray(new JsonObject { ["clientCIDR"] = "0.0.0.0/0", ["serverAddress"] = host }),
    };

    public static JsonObject GroupList() => new()
    {
        ["kind"] = "APIGroupList",
        ["apiVersion"] = "v1",
        ["groups"] = new JsonArray(ResourceTypes.Groups.Select(g => (JsonNode)Group(g)!).ToArray()),
    };

    /// <summary>One group's document; every group the sandbox serves has exactly one version.</summary>
    public static JsonObject? Group(string name)
    {
        if (ResourceTypes.All.FirstOrDefault(t => t.Group == name && name.Length > 0) is not { } type)
        {
            return null;
        }

        var version = new JsonObject { ["groupVersion"] = type.GroupVersion, ["version"] = type.Version };
        return new JsonObject
        {
            ["kind"] = "APIGroup",
            ["apiVersion"] = "v1",
            ["name"] = name,
            ["versions"] = new JsonArray(version),
            ["preferredVersion"] = version.DeepClone(),
        };
    }

    public static JsonObject ResourceList(string groupVersion)
    {
        var resources = new JsonArray();
        foreach (var t in ResourceTypes.All.Where(t => t.GroupVersion == groupVersion))
        {
            var verbs = new JsonArray("create", "delete", "get", "list", "patch", "update", "watch");
            resources.Add(new JsonObject
            {
                ["name"] = t.Plural,
                ["singularName"] = t.Singular,
                ["namespaced"] = t.Namespaced,
                ["kind"] = t.Kind,
                ["verbs"] = verbs,
                ["shortNames"] = new JsonArray(t.ShortNames.Select(s => (JsonNode)s).ToArray()),
            });
            if (t.HasStatus)
            {
                resources.Add(new JsonObject
                {
                    ["name"] = t.Plural + "/status",
                    ["singularName"] = "",
                    ["namespaced"] = t.Namespaced,
                    ["kind"] = t.Kind,
                    ["verbs"] = new JsonArray("get", "patch", "update"),
                });
            }
        }

        if (ResourceTypes.All.Any(t => t.GroupVersion == groupVersion))
        {
            return new JsonObject
            {
                ["kind"] = "APIResourceList",
                ["apiVersion"] = "v1",
                ["groupVersion"] = groupVersion,
                ["resources"] = resources,
            };
        }

        throw new KubeException(404, "NotFound", $"the server could not find the requested resource ({groupVersion})");
    }
}
