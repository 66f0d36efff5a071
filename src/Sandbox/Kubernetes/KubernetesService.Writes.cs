using System.Text;
using System.Text.Json.Nodes;
using BranchEni.Sandbox.Kubernetes.Admission;
using Microsoft.AspNetCore.Http;

namespace BranchEni.Sandbox.Kubernetes;

/// <summary>
/// Create and update (PUT, PATCH, /status) through admission, in the API server's order: mutating webhooks on the
/// object as sent (a patch already applied to the stored object), then the server's own defaulting and validation,
/// then validating webhooks on the object as it would be stored, then the write. Dry runs stop before the write.
/// </summary>
internal sealed partial class KubernetesService
{
    /// <summary>How often an update is prepared again when the stored object changed while webhooks were called.</summary>
    private const int UpdateAttempts = 5;

    private async Task<JsonObject> CreateAsync(HttpContext context, ApiPath api, bool dryRun)
    {
        var body = await ReadObjectAsync(context).ConfigureAwait(false);
        if (api.Type.Namespaced && Meta.Str(body, "metadata", "namespace") is { Length: > 0 } bodyNs && bodyNs != api.Namespace)
        {
            throw KubeException.BadRequest("the namespace of the provided object does not match the namespace sent on the request");
        }

        CheckKind(api.Type, body);
        if (api.Type.Namespaced)
        {
            // The NamespaceLifecycle plugin answers before any webhook is called.
            store.Get(ResourceTypes.Namespaces, null, api.Namespace!);
        }

        var request = Attributes(context, "CREATE", api, body, null, dryRun, "CreateOptions");
        body = await admission.MutateAsync(request, context.RequestAborted).ConfigureAwait(false);
        var prepared = store.PrepareCreate(api.Type, api.Namespace, body);
        await admission.ValidateAsync(request with { Name = Meta.Name(prepared), Object = prepared }, context.RequestAborted).ConfigureAwait(false);
        return dryRun ? prepared : store.CommitCreate(api.Type, prepared);
    }

    private async Task<JsonObject> UpdateAsync(HttpContext context, ApiPath api, bool statusOnly, bool dryRun, Func<JsonObject, JsonObject> change)
    {
        for (var attempt = 1; ; attempt++)
        {
            var current = store.Get(api.Type, api.Namespace, api.Name!);
            var next = change((JsonObject)current.DeepClone());
            var request = Attributes(context, "UPDATE", api, next, current, dryRun, "UpdateOptions");
            next = await admission.MutateAsync(request, context.RequestAborted).ConfigureAwait(false);
            var result = store.PrepareUpdate(api.Type, current, next, statusOnly);
            await admission.ValidateAsync(request with { Object = result }, context.RequestAborted).ConfigureAwait(false);
            if (dryRun)
            {
                return result;
            }

            try
            {
                return store.CommitUpdate(api.Type, current, result);
            }
            catch (StaleUpdateException) when (attempt == UpdateAttempts)
            {
                throw KubeException.Conflict(api.Type, api.Name!, "the object has been modified; please apply your changes to the latest version and try again");
            }
            catch (StaleUpdateException)
            {
                // Another write landed while the webhooks were called: start again from the stored object.
            }
        }
    }

    private AdmissionAttributes Attributes(HttpContext context, string operation, ApiPath api, JsonObject obj, JsonObject? old, bool dryRun, string optionsKind)
    {
        var options = new JsonObject { ["kind"] = optionsKind, ["apiVersion"] = "meta.k8s.io/v1" };
        if (dryRun)
        {
            options["dryRun"] = new JsonArray("All");
        }

        if (context.Request.Query["fieldManager"].ToString() is { Length: > 0 } manager)
        {
            options["fieldManager"] = manager;
        }

        var response = context.Response;
        return new AdmissionAttributes(
            operation, api.Type, api.Subresource, api.Type.Namespaced ? api.Namespace : null, api.Name ?? Meta.Name(obj), obj, old,
            User(context.Request), dryRun, options, warning => response.Headers.Append("Warning", WarningHeader(warning)));
    }

    private Hosting.SandboxIdentity User(HttpRequest request) => identities.Resolve(
        request.Headers.Authorization,
        request.Headers["Impersonate-User"],
        request.Headers["Impersonate-Group"].OfType<string>().ToList(),
        request.Headers["Impersonate-Uid"]);

    /// <summary>RFC 7234 warn-code 299 with agent "-", as the API server sends webhook warnings; kubectl prints "Warning: TEXT".</summary>
    private static string WarningHeader(string text)
    {
        var quoted = new StringBuilder("299 - \"");
        foreach (var c in text)
        {
            if (c is '"' or '\\')
            {
                quoted.Append('\\');
            }

            // Kestrel sends only printable ASCII in header values; anything else becomes '?' rather than failing the request.
            quoted.Append(c is >= ' ' and <= '~' ? c : '?');
        }

        return quoted.Append('"').ToString();
    }

    /// <summary>dryRun=All (the only value there is) previews a write: admission runs, nothing is stored.</summary>
    private static bool DryRun(HttpRequest request)
    {
        if (!request.Query.TryGetValue("dryRun", out var values))
        {
            return false;
        }

        var kind = request.Method switch { "POST" => "CreateOptions", "DELETE" => "DeleteOptions", "PATCH" => "PatchOptions", _ => "UpdateOptions" };
        foreach (var value in values)
        {
            if (value != "All")
            {
                throw new KubeException(422, "Invalid", $"{kind}.meta.k8s.io \"\" is invalid: dryRun: Unsupported value: \"{value}\": supported values: \"All\"");
            }
        }

        return true;
    }
}
