using System.Text.Json;

namespace BranchEni.Controller.Admission;

/// <summary>
/// The parts of an admission.k8s.io/v1 AdmissionReview request the webhooks decide on. The objects stay JsonElements
/// of the caller's document: a webhook reads a few fields of a pod, never the whole model.
/// </summary>
internal sealed record AdmissionRequest(
    string Uid,
    string Operation,
    string? Namespace,
    string? Kind,
    string UserName,
    JsonElement Object,
    JsonElement OldObject)
{
    /// <summary>Reads `request` of an AdmissionReview; throws <see cref="FormatException"/> naming what is missing.</summary>
    public static AdmissionRequest Parse(JsonElement review)
    {
        if (review.ValueKind != JsonValueKind.Object || !review.TryGetProperty("request", out var request) || request.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException("the AdmissionReview has no request");
        }

        var uid = Str(request, "uid") ?? throw new FormatException("request.uid is missing");
        var operation = Str(request, "operation") ?? throw new FormatException("request.operation is missing");
        var kind = request.TryGetProperty("kind", out var k) && k.ValueKind == JsonValueKind.Object ? Str(k, "kind") : null;
        var user = request.TryGetProperty("userInfo", out var u) && u.ValueKind == JsonValueKind.Object ? Str(u, "username") : null;
        return new AdmissionRequest(uid, operation, Str(request, "namespace"), kind, user ?? "",
            request.TryGetProperty("object", out var o) ? o : default,
            request.TryGetProperty("oldObject", out var old) ? old : default);
    }

    private static string? Str(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}

/// <summary>A webhook's answer: allowed with an optional JSONPatch, or denied with an HTTP-like code and a message.</summary>
internal sealed record AdmissionVerdict(bool Allowed, byte[]? JsonPatch = null, int Code = 200, string? Reason = null, string? Message = null)
{
    public static readonly AdmissionVerdict Allow = new(true);

    public static AdmissionVerdict Patch(byte[] jsonPatch) => new(true, jsonPatch);

    public static AdmissionVerdict Forbidden(string message) => new(false, Code: 403, Reason: "Forbidden", Message: message);

    /// <summary>The caller should retry (the API server reports the message; kubectl shows it).</summary>
    public static AdmissionVerdict TryAgain(string message) => new(false, Code: 503, Reason: "ServiceUnavailable", Message: message);

    /// <summary>For metrics and logs: allowed, patched or denied.</summary>
    public string Outcome => !Allowed ? "denied" : JsonPatch is not null ? "patched" : "allowed";

    /// <summary>Writes the AdmissionReview response (admission.k8s.io/v1) echoing the request's uid.</summary>
    public void WriteReview(Utf8JsonWriter json, string uid)
    {
        ArgumentNullException.ThrowIfNull(json);
        json.WriteStartObject();
        json.WriteString("apiVersion", "admission.k8s.io/v1");
        json.WriteString("kind", "AdmissionReview");
        json.WriteStartObject("response");
        json.WriteString("uid", uid);
        json.WriteBoolean("allowed", Allowed);
        if (JsonPatch is not null)
        {
            json.WriteString("patchType", "JSONPatch");
            json.WriteBase64String("patch", JsonPatch);
        }

        if (!Allowed)
        {
            json.WriteStartObject("status");
            json.WriteNumber("code", Code);
            json.WriteString("reason", Reason);
            json.WriteString("message", Message);
            json.WriteEndObject();
        }

        json.WriteEndObject();
        json.WriteEndObject();
    }
}
