using System.Text.Json.Nodes;

namespace BranchEni.Sandbox.Kubernetes;

/// <summary>What the API server and its controllers fill in on create (<see cref="Apply"/>) and on every write (<see cref="OnWrite"/>).</summary>
internal static class Defaults
{
    /// <summary>Field defaults the API server applies whenever it decodes an object, create or update.</summary>
    public static void OnWrite(ResourceType type, JsonObject obj)
    {
        if (type == ResourceTypes.MutatingWebhookConfigurations || type == ResourceTypes.ValidatingWebhookConfigurations)
        {
            Admission.WebhookConfigurations.Default(type, obj);
        }
        else if (type == ResourceTypes.Secrets)
        {
            Secret(obj);
        }
        else if (type == ResourceTypes.Services && obj["spec"] is JsonObject spec)
        {
            spec["type"] ??= "ClusterIP";
            spec["sessionAffinity"] ??= "None";
        }
    }

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

    /// <summary>
    /// A Secret's stringData is write-only convenience: merged into data (base64) over same-named keys and never
    /// stored. data values must be base64, as the API server's decoding of []byte fields demands.
    /// </summary>
    private static void Secret(JsonObject obj)
    {
        obj["type"] ??= "Opaque";
        if (obj["data"] is JsonObject data)
        {
            foreach (var (key, value) in data)
            {
                if (value is not JsonValue v || !v.TryGetValue<string>(out var text) || !IsBase64(text))
                {
                    throw KubeException.BadRequest($"Secret in version \"v1\" cannot be handled as a Secret: illegal base64 data in data[{key}]");
                }
            }
        }

        if (obj["stringData"] is JsonObject stringData)
        {
            var merged = obj["data"] as JsonObject ?? new JsonObject();
            foreach (var (key, value) in stringData)
            {
                var text = value is JsonValue v && v.TryGetValue<string>(out var t)
                    ? t
                    : throw KubeException.BadRequest($"Secret in version \"v1\" cannot be handled as a Secret: stringData[{key}] must be a string");
                merged[key] = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(text));
            }

            obj["data"] = merged;
        }

        obj.Remove("stringData");
    }

    private static bool IsBase64(string text) => Convert.TryFromBase64String(text, new byte[text.Length], out _);
}
