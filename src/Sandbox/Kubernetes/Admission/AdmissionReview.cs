using System.Text.Json;
using System.Text.Json.Nodes;

namespace BranchEni.Sandbox.Kubernetes.Admission;

/// <summary>What a webhook answered, once checked: allowed or not, its JSON patch (mutating only), status and warnings.</summary>
internal sealed record AdmissionResponse(bool Allowed, JsonArray? Patch, JsonObject? Result, IReadOnlyList<string> Warnings);

/// <summary>
/// admission.k8s.io/v1 AdmissionReview: the request the API server sends a webhook and the checks it makes of the
/// answer (kind and version, response present, the same uid, patch and patchType together and only from a mutating
/// webhook, JSONPatch the only patch type). A failed check is a failed call, so the failurePolicy applies.
/// </summary>
internal static class AdmissionReview
{
    public const string ApiVersion = "admission.k8s.io/v1";

    public static JsonObject Request(string uid, AdmissionAttributes a)
    {
        var type = a.Type;
        var kind = new JsonObject { ["group"] = type.Group, ["version"] = type.Version, ["kind"] = type.Kind };
        var resource = new JsonObject { ["group"] = type.Group, ["version"] = type.Version, ["resource"] = type.Plural };
        var user = new JsonObject { ["username"] = a.User.UserName };
        if (a.User.Uid is { } userUid)
        {
            user["uid"] = userUid;
        }

        user["groups"] = new JsonArray(a.User.Groups.Select(g => (JsonNode)g!).ToArray());
        var request = new JsonObject
        {
            ["uid"] = uid,
            ["kind"] = kind,
            ["resource"] = resource,
            ["requestKind"] = kind.DeepClone(),
            ["requestResource"] = resource.DeepClone(),
        };
        if (a.Subresource is { Length: > 0 } sub)
        {
            request["subResource"] = sub;
            request["requestSubResource"] = sub;
        }

        // Go's omitempty: no name on a create from generateName, no namespace for cluster-scoped objects.
        if (a.Name.Length > 0)
        {
            request["name"] = a.Name;
        }

        if (a.Namespace is { Length: > 0 } ns)
        {
            request["namespace"] = ns;
        }

        request["operation"] = a.Operation;
        request["userInfo"] = user;
        request["object"] = a.Object?.DeepClone();
        request["oldObject"] = a.OldObject?.DeepClone();
        request["dryRun"] = a.DryRun;
        request["options"] = a.Options.DeepClone();
        return new JsonObject { ["kind"] = "AdmissionReview", ["apiVersion"] = ApiVersion, ["request"] = request };
    }

    /// <summary>Checks an answer; a <see cref="WebhookCallException"/> carries the API server's wording of what is wrong.</summary>
    public static AdmissionResponse Response(string uid, bool mutating, string body)
    {
        JsonObject review;
        try
        {
            review = JsonNode.Parse(body) as JsonObject ?? throw Invalid("the response body is not a JSON object");
        }
        catch (JsonException e)
        {
            throw Invalid($"the response body is not JSON: {e.Message}");
        }

        if (review["response"] is not JsonObject response)
        {
            throw Invalid("webhook response was absent");
        }

        if (Meta.Str(response, "uid") != uid)
        {
            throw Invalid($"expected response.uid=\"{uid}\", got \"{Meta.Str(response, "uid")}\"");
        }

        if (Meta.Str(review, "apiVersion") != ApiVersion || Meta.Str(review, "kind") != "AdmissionReview")
        {
            throw Invalid($"expected webhook response of {ApiVersion}, Kind=AdmissionReview, got {Meta.Str(review, "apiVersion")}, Kind={Meta.Str(review, "kind")}");
        }

        var patch = Meta.Str(response, "patch");
        var patchType = response["patchType"];
        JsonArray? operations = null;
        if (!mutating && (patch is not null || patchType is not null))
        {
            throw Invalid($"validating webhook may not return response.{(patch is not null ? "patch" : "patchType")}");
        }

        if (mutating && (patch is { Length: > 0 }) != (patchType is not null))
        {
            throw Invalid(patchType is null
                ? "webhook returned response.patch but not response.patchType"
                : "webhook returned response.patchType but not response.patch");
        }

        if (patch is { Length: > 0 })
        {
            if (Meta.Str(patchType) != "JSONPatch")
            {
                throw new WebhookCallException($"unsupported patch type \"{Meta.Str(patchType)}\"");
            }

            operations = DecodePatch(patch);
        }

        var allowed = response["allowed"] is JsonValue a && a.TryGetValue<bool>(out var yes) && yes;
        var warnings = (response["warnings"] as JsonArray ?? []).Select(w => Meta.Str(w)).OfType<string>().ToList();
        return new AdmissionResponse(allowed, operations, response["status"] as JsonObject, warnings);
    }

    private static JsonArray DecodePatch(string base64)
    {
        try
        {
            return JsonNode.Parse(Convert.FromBase64String(base64)) as JsonArray
                ?? throw new WebhookCallException("received undecodable patch in webhook response: not a JSON array of operations");
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            throw new WebhookCallException($"received undecodable patch in webhook response: {e.Message}");
        }
    }

    private static WebhookCallException Invalid(string why) => new($"received invalid webhook response: {why}");
}
