using System.Text.Json.Nodes;

namespace BranchEni.Sandbox.Kubernetes.Tables;

/// <summary>
/// One server-side printer column: its definition as a Table's columnDefinitions carry it (priority 0 is always shown,
/// 1 only with <c>-o wide</c>) and how to compute its cell from an object at a given time. A null cell is what kubectl
/// prints as &lt;none&gt;.
/// </summary>
internal sealed record TableColumn(string Name, string Type, string Description, int Priority, Func<JsonObject, DateTime, JsonNode?> Cell)
{
    public string Format { get; init; } = "";

    /// <summary>The first column of every table: the object's name, format "name" as kubectl expects it.</summary>
    public static TableColumn ObjectName { get; } = new("Name", "string",
        "Name must be unique within a namespace.", 0, (o, _) => Meta.Name(o)) { Format = "name" };

    /// <summary>Time since creation, in the API server's short form.</summary>
    public static TableColumn CreationAge { get; } = new("Age", "string",
        "The time since the object was created.", 0, (o, now) => Age.Since(Meta.Str(o, "metadata", "creationTimestamp"), now));

    public JsonObject Definition() => new()
    {
        ["name"] = Name,
        ["type"] = Type,
        ["format"] = Format,
        ["description"] = Description,
        ["priority"] = Priority,
    };
}
