using System.Text.Json.Nodes;

namespace BranchEni.Sandbox.Kubernetes;

/// <summary>An API error, answered as a Kubernetes Status object with the matching HTTP code and reason.</summary>
internal sealed class KubeException(int code, string reason, string message, ResourceType? type = null, string? name = null)
    : Exception(message)
{
    public int Code { get; } = code;
    public string Reason { get; } = reason;

    /// <summary>Status details to answer as given (a webhook's own), instead of those made from the type and name.</summary>
    public JsonObject? Details { get; init; }

    public JsonObject ToStatus()
    {
        var status = new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Failure",
            ["message"] = Message,
            ["reason"] = Reason,
            ["code"] = Code,
        };
        if (Reason.Length == 0)
        {
            // An empty reason is left out (omitempty); kubectl then prints "Error from server: …" without a reason.
            status.Remove("reason");
        }

        if (Details is not null)
        {
            status["details"] = Details.DeepClone();
        }
        else if (type is not null || name is not null)
        {
            var details = new JsonObject();
            if (name is not null)
            {
                details["name"] = name;
            }

            if (type is not null)
            {
                details["group"] = type.Group;
                details["kind"] = type.Plural;
            }

            status["details"] = details;
        }

        return status;
    }

    public static KubeException NotFound(ResourceType type, string name) =>
        new(404, "NotFound", $"{Resource(type)} \"{name}\" not found", type, name);

    public static KubeException AlreadyExists(ResourceType type, string name) =>
        new(409, "AlreadyExists", $"{Resource(type)} \"{name}\" already exists", type, name);

    public static KubeException Conflict(ResourceType type, string name, string why) =>
        new(409, "Conflict",
            $"Operation cannot be fulfilled on {Resource(type)} \"{name}\": {why}", type, name);

    public static KubeException BadRequest(string message) => new(400, "BadRequest", message);

    public static KubeException Invalid(ResourceType type, string name, string message) =>
        new(422, "Invalid", $"{(type.Group.Length == 0 ? type.Kind : $"{type.Kind}.{type.Group}")} \"{name}\" is invalid: {message}", type, name);

    private static string Resource(ResourceType type) => type.Group.Length == 0 ? type.Plural : $"{type.Plural}.{type.Group}";
}
