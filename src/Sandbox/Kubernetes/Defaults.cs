using System.Text.Json.Nodes;

namespace BranchEni.Sandbox.Kubernetes;

/// <summary>What the API server and its controllers fill in on create.</summary>
internal static class Defaults
{
    public static void Apply(ResourceType type, JsonObject obj)
    {
        if (type == ResourceTypes.Pods && obj["status"] is not JsonObject)
        {
            obj["status"] = new JsonObject { ["phase"] = "Pending", ["qosClass"] = "BestEffort" };
        }

        if (type == ResourceTypes.Pods && obj["spec"] is JsonObject spec && spec["serviceAccountName"] is null)
        {
            spec["serviceAccountName"] = "default";
        }

        if (type == ResourceTypes.Namespaces)
        {
            obj["spec"] = new JsonObject { ["finalizers"] = new JsonArray("kubernetes") };
            obj["status"] = new JsonObject { ["phase"] = "Active" };
            var labels = Meta.Metadata(obj)["labels"] as JsonObject ?? new JsonObject();
            labels["kubernetes.io/metadata.name"] = Meta.Name(obj);
            Meta.Metadata(obj)["labels"] = labels;
        }
    }

    public static JsonObject ServiceAccount(string ns) => new()
    {
        ["apiVersion"] = "v1",
        ["kind"] = "ServiceAccount",
        ["metadata"] = new JsonObject
        {
            ["name"] = "default",
            ["namespace"] = ns,
            ["uid"] = Guid.NewGuid().ToString(),
            ["creationTimestamp"] = Meta.Now(),
        },
    };
}
