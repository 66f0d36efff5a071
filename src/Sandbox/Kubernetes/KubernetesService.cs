using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace BranchEni.Sandbox.Kubernetes;

/// <summary>Which object a request names: /api/v1/namespaces/NS/pods/NAME/status and the like.</summary>
internal sealed record ApiPath(ResourceType Type, string? Namespace, string? Name, string? Subresource);

/// <summary>
/// The Kubernetes API endpoint: discovery, then get/list/watch/create/update/patch/delete on the served types.
/// Every failure is a Status object with the matching code; unknown paths are 404 Status, never a crash.
/// The bearer token says who asks (<see cref="Hosting.SandboxIdentities"/>); nothing is authorized by it, it is
/// what admission webhooks see as userInfo. Writes go through admission (KubernetesService.Writes.cs).
/// </summary>
internal sealed partial class KubernetesService(
    KubernetesStore store, Admission.AdmissionWebhooks admission, Hosting.SandboxIdentities identities, ILogger<KubernetesService> logger)
{
    public async Task HandleAsync(HttpContext context)
    {
        try
        {
            await ServeAsync(context).ConfigureAwait(false);
        }
        catch (KubeException e)
        {
            await WriteAsync(context, e.Code, e.ToStatus()).ConfigureAwait(false);
        }
        catch (JsonException e)
        {
            await WriteAsync(context, 400, KubeException.BadRequest($"the request body is not valid JSON: {e.Message}").ToStatus()).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException && !context.Response.HasStarted)
        {
            logger.LogError(e, "Kubernetes {Method} {Path} failed inside the emulator", context.Request.Method, context.Request.Path);
            await WriteAsync(context, 500, new KubeException(500, "InternalError", e.Message).ToStatus()).ConfigureAwait(false);
        }
    }

    private async Task ServeAsync(HttpContext context)
    {
        var path = context.Request.Path.Value?.TrimEnd('/') ?? "";
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        switch (segments)
        {
            case ["version"]:
                await WriteAsync(context, 200, Discovery.Version()).ConfigureAwait(false);
                return;
            case ["healthz" or "livez" or "readyz"]:
                context.Response.ContentType = "text/plain";
                await context.Response.WriteAsync("ok", context.RequestAborted).ConfigureAwait(false);
                return;
            case ["api"]:
                await WriteAsync(context, 200, Discovery.CoreVersions(context.Request.Host.Value ?? "127.0.0.1")).ConfigureAwait(false);
                return;
            case ["apis"]:
                await WriteAsync(context, 200, Discovery.GroupList()).ConfigureAwait(false);
                return;
            case ["apis", var group]:
                await WriteAsync(context, 200, Discovery.Group(group)
                    ?? throw new KubeException(404, "NotFound", "the server could not find the requested resource")).ConfigureAwait(false);
                return;
            case ["api", "v1"]:
                await WriteAsync(context, 200, Discovery.ResourceList("v1")).ConfigureAwait(false);
                return;
            case ["openapi", "v3"]:
                await WriteAsync(context, 200, OpenApi.Root()).ConfigureAwait(false);
                return;
            case ["openapi", "v3", .. var gvPath]:
                await WriteAsync(context, 200, OpenApi.GroupVersion(string.Join('/', gvPath))
                    ?? throw new KubeException(404, "NotFound", "the server could not find the requested resource")).ConfigureAwait(false);
                return;
            case ["apis", var g, var v]:
                await WriteAsync(context, 200, Discovery.ResourceList($"{g}/{v}")).ConfigureAwait(false);
                return;
        }

        var api = Route(segments) ?? throw new KubeException(404, "NotFound", "the server could not find the requested resource");
        await DispatchAsync(context, api).ConfigureAwait(false);
    }

    private static ApiPath? Route(string[] segments)
    {
        var (gv, rest) = segments switch
        {
            ["api", "v1", .. var r] => ("v1", r),
            ["apis", var g, var v, .. var r] => ($"{g}/{v}", r),
            _ => (null, Array.Empty<string>()),
        };
        if (gv is null)
        {
            return null;
        }

        if (rest is ["namespaces", var ns, var plural, .. var tail] && plural is not ("status" or "finalize"))
        {
            var type = ResourceTypes.Find(gv, plural);
            return type is null || !type.Namespaced || tail.Length > 2 ? null : new ApiPath(type, ns, tail.ElementAtOrDefault(0), tail.ElementAtOrDefault(1));
        }

        if (rest is [var p, .. var t] && ResourceTypes.Find(gv, p) is { } cluster && t.Length <= 2)
        {
            // A namespaced type without a namespace is the all-namespaces list/watch only.
            return cluster.Namespaced && t.Length > 0 ? null : new ApiPath(cluster, null, t.ElementAtOrDefault(0), t.ElementAtOrDefault(1));
        }

        return null;
    }

    private async Task DispatchAsync(HttpContext context, ApiPath api)
    {
        var request = context.Request;
        if (api.Subresource is not null and not "status" || (api.Subresource == "status" && !api.Type.HasStatus))
        {
            throw new KubeException(404, "NotFound", $"the server could not find the requested resource ({api.Type.Plural}/{api.Subresource})");
        }

        var dryRun = request.Method is not "GET" && DryRun(request);
        var statusOnly = api.Subresource == "status";
        JsonObject result;
        var code = 200;
        switch (request.Method)
        {
            case "GET" when api.Name is null && IsWatch(request):
                await WatchAsync(context, api).ConfigureAwait(false);
                return;
            case "GET" when api.Name is null:
                result = ListObjects(request, api);
                break;
            case "GET":
                result = store.Get(api.Type, api.Namespace, api.Name);
                break;
            case "POST" when api.Name is null && (api.Namespace is not null || !api.Type.Namespaced):
                result = await CreateAsync(context, api, dryRun).ConfigureAwait(false);
                code = 201;
                break;
            case "PUT" when api.Name is not null:
                var replacement = await ReadObjectAsync(context).ConfigureAwait(false);
                CheckKind(api.Type, replacement);
                result = await UpdateAsync(context, api, statusOnly, dryRun, _ => replacement).ConfigureAwait(false);
                break;
            case "PATCH" when api.Name is not null:
                result = await PatchAsync(context, api, statusOnly, dryRun).ConfigureAwait(false);
                break;
            case "DELETE" when api.Name is not null:
                var options = request.ContentLength is > 0 ? await ReadObjectAsync(context).ConfigureAwait(false) : null;
                result = store.Delete(api.Type, api.Namespace, api.Name,
                    Meta.Str(options, "preconditions", "uid"), Meta.Str(options, "preconditions", "resourceVersion"), dryRun);
                break;
            default:
                throw new KubeException(405, "MethodNotAllowed", $"the server does not allow this method on the requested resource ({request.Method})");
        }

        await WriteAsync(context, code, result).ConfigureAwait(false);
    }

    private static bool IsWatch(HttpRequest request) => request.Query["watch"].ToString() is "true" or "1";

    private static void CheckKind(ResourceType type, JsonObject body)
    {
        if ((Meta.Str(body, "kind") is { Length: > 0 } kind && kind != type.Kind)
            || (Meta.Str(body, "apiVersion") is { Length: > 0 } version && version != type.GroupVersion))
        {
            throw KubeException.BadRequest($"the API version in the data ({Meta.Str(body, "apiVersion")}) and kind ({Meta.Str(body, "kind")}) do not match the request ({type.GroupVersion}, {type.Kind})");
        }
    }

    private async Task<JsonObject> PatchAsync(HttpContext context, ApiPath api, bool statusOnly, bool dryRun)
    {
        var contentType = context.Request.ContentType?.Split(';')[0].Trim() ?? "";
        var patch = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted).ConfigureAwait(false);
        Func<JsonObject, JsonObject> change = contentType switch
        {
            Patching.Merge when patch is JsonObject => current => (JsonObject)Patching.MergePatch(current, patch)!,
            Patching.Strategic when api.Type == ResourceTypes.SecurityGroupPolicies =>
                throw new KubeException(415, "UnsupportedMediaType", "strategic merge patch is not supported for custom resources; use a merge patch"),
            Patching.Strategic when patch is JsonObject => current => (JsonObject)Patching.StrategicMerge(current, patch)!,
            Patching.Json when patch is JsonArray ops => current => Patching.ApplyJsonPatch(current, ops) as JsonObject
                ?? throw KubeException.BadRequest("a JSON patch must leave an object"),
            Patching.Merge or Patching.Strategic or Patching.Json => throw KubeException.BadRequest($"the {contentType} body has the wrong JSON shape"),
            _ => throw new KubeException(415, "UnsupportedMediaType", $"the body of the request was in an unknown format - accepted media types include: {Patching.Json}, {Patching.Merge}, {Patching.Strategic}"),
        };
        return await UpdateAsync(context, api, statusOnly, dryRun, change).ConfigureAwait(false);
    }

    private static async Task<JsonObject> ReadObjectAsync(HttpContext context)
    {
        var contentType = context.Request.ContentType?.Split(';')[0].Trim();
        if (contentType is not (null or "application/json" or "*/*"))
        {
            throw new KubeException(415, "UnsupportedMediaType", $"the body of the request was in an unknown format ({contentType}) - this sandbox accepts application/json");
        }

        return await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted).ConfigureAwait(false) as JsonObject
            ?? throw KubeException.BadRequest("the request body must be a JSON object");
    }

    private static async Task WriteAsync(HttpContext context, int code, JsonObject body)
    {
        context.Response.StatusCode = code;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString(Meta.Output), context.RequestAborted).ConfigureAwait(false);
    }
}
