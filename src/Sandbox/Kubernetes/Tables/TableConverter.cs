using System.Text.Json.Nodes;

namespace BranchEni.Sandbox.Kubernetes.Tables;

/// <summary>Turns what a GET or a watch event would return into the meta.k8s.io Table the client asked for.</summary>
internal static class TableConverter
{
    public static IReadOnlyList<TableColumn> ColumnsOf(ResourceType type) =>
        type == ResourceTypes.Nodes ? BuiltInColumns.Nodes
        : type == ResourceTypes.Pods ? BuiltInColumns.Pods
        : type == ResourceTypes.Namespaces ? BuiltInColumns.Namespaces
        : type == ResourceTypes.NetworkPolicies ? BuiltInColumns.NetworkPolicies
        : type == ResourceTypes.SecurityGroupPolicies ? CustomResourceColumns.SecurityGroupPolicies
        : BuiltInColumns.Default;

    /// <summary>A list becomes one row per item, keeping the list's resourceVersion and continue token.</summary>
    public static JsonObject FromList(ResourceType type, JsonObject list, TableRequest request, DateTime now) =>
        Table(type, request, list["metadata"]?.DeepClone() as JsonObject ?? [], (list["items"] as JsonArray)?.OfType<JsonObject>() ?? [], now);

    /// <summary>One object (a GET by name, a watch event) becomes a table of one row.</summary>
    public static JsonObject FromObject(ResourceType type, JsonObject obj, TableRequest request, DateTime now) =>
        Table(type, request, new JsonObject { ["resourceVersion"] = Meta.Str(obj, "metadata", "resourceVersion") ?? "" }, [obj], now);

    private static JsonObject Table(ResourceType type, TableRequest request, JsonObject metadata, IEnumerable<JsonObject> objects, DateTime now)
    {
        var columns = ColumnsOf(type);
        var rows = new JsonArray();
        foreach (var obj in objects)
        {
            var row = new JsonObject { ["cells"] = new JsonArray(columns.Select(c => c.Cell(obj, now)).ToArray()) };
            if (RowObjectOf(obj, request) is { } rowObject)
            {
                row["object"] = rowObject;
            }

            rows.Add(row);
        }

        return new JsonObject
        {
            ["kind"] = "Table",
            ["apiVersion"] = request.ApiVersion,
            ["metadata"] = metadata,
            ["columnDefinitions"] = new JsonArray(columns.Select(c => (JsonNode)c.Definition()).ToArray()),
            ["rows"] = rows,
        };
    }

    private static JsonObject? RowObjectOf(JsonObject obj, TableRequest request) => request.Row switch
    {
        RowObject.Object => (JsonObject)obj.DeepClone(),
        RowObject.PartialObjectMetadata => new JsonObject
        {
            ["kind"] = "PartialObjectMetadata",
            ["apiVersion"] = request.ApiVersion,
            ["metadata"] = obj["metadata"]?.DeepClone(),
        },
        _ => null,
    };
}
