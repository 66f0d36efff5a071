using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;

namespace BranchEni.Sandbox.Kubernetes.Admission;

/// <summary>
/// The API server's webhook admission over the stored Mutating/ValidatingWebhookConfigurations. Mutating webhooks
/// are called one after the other, each seeing the object as the previous one's JSONPatch left it; validating
/// webhooks are called together and see the final object. A denial answers with the webhook's status; a webhook
/// that cannot be called (down, timed out, untrusted certificate, bad answer) is skipped under failurePolicy Ignore
/// and is a 500 under Fail. Not emulated: reinvocationPolicy IfNeeded (each mutating webhook is called once),
/// matchConditions (CEL) and AdmissionReview v1beta1 (a webhook that does not list v1 is not called).
/// </summary>
internal sealed partial class AdmissionWebhooks(KubernetesStore store, ILogger<AdmissionWebhooks> logger) : IDisposable
{
    private readonly WebhookCaller _caller = new();

    /// <summary>The object after every matching mutating webhook's patch.</summary>
    public async Task<JsonObject> MutateAsync(AdmissionAttributes request, CancellationToken cancellationToken)
    {
        var obj = request.Object!;
        foreach (var webhook in Matching(ResourceTypes.MutatingWebhookConfigurations, request))
        {
            var current = request with { Object = obj };
            var answer = await CallAsync(webhook, current, cancellationToken).ConfigureAwait(false);
            if (answer?.Patch is { } patch)
            {
                obj = ApplyPatch(webhook, obj, patch);
            }
        }

        return obj;
    }

    /// <summary>Throws the first denial or (fail-closed) call failure, in configuration order.</summary>
    public async Task ValidateAsync(AdmissionAttributes request, CancellationToken cancellationToken)
    {
        var calls = Matching(ResourceTypes.ValidatingWebhookConfigurations, request)
            .Select(w => CallAsync(w, request, cancellationToken))
            .ToList();
        try
        {
            await Task.WhenAll(calls).ConfigureAwait(false);
        }
        catch (KubeException)
        {
            // Rethrown below from the first webhook in order that failed, not whichever finished first.
        }

        foreach (var call in calls)
        {
            await call.ConfigureAwait(false);
        }
    }

    public void Dispose() => _caller.Dispose();

    private List<Webhook> Matching(ResourceType configurations, AdmissionAttributes request)
    {
        // The API server never sends its own webhook configurations through webhooks: a broken webhook could
        // otherwise lock out the configuration that fixes it.
        if (request.Type.Group == ResourceTypes.AdmissionGroup)
        {
            return [];
        }

        var (items, _) = store.List(configurations, null, _ => true);
        IReadOnlyDictionary<string, string>? labels = null;
        IReadOnlyDictionary<string, string> NamespaceLabels() =>
            labels ??= Meta.Labels(store.Get(ResourceTypes.Namespaces, null, request.Namespace ?? ""));
        return items
            .OrderBy(Meta.Name, StringComparer.Ordinal)
            .SelectMany(c => Webhook.From(c, configurations == ResourceTypes.MutatingWebhookConfigurations))
            .Where(w => w.ReviewVersions.Contains("v1") && WebhookMatcher.Matches(w, request, NamespaceLabels))
            .ToList();
    }

    /// <summary>One call: the answer when allowed, null when the call failed and the webhook fails open; otherwise throws.</summary>
    private async Task<AdmissionResponse?> CallAsync(Webhook webhook, AdmissionAttributes request, CancellationToken cancellationToken)
    {
        if (request.DryRun && webhook.SideEffects is not ("None" or "NoneOnDryRun"))
        {
            throw KubeException.BadRequest($"admission webhook \"{webhook.Name}\" does not support dry run");
        }

        var uid = Guid.NewGuid().ToString();
        AdmissionResponse answer;
        try
        {
            var body = await Post(webhook, AdmissionReview.Request(uid, request).ToJsonString(Meta.Output), cancellationToken).ConfigureAwait(false);
            answer = AdmissionReview.Response(uid, webhook.Mutating, body);
        }
        catch (WebhookCallException e) when (webhook.FailOpen)
        {
            LogFailedOpen(logger, webhook.Name, e.Message);
            return null;
        }
        catch (WebhookCallException e)
        {
            throw InternalError($"failed calling webhook \"{webhook.Name}\": {e.Message}");
        }

        foreach (var warning in answer.Warnings)
        {
            request.Warn(warning);
        }

        return answer.Allowed ? answer : throw Denied(webhook.Name, answer.Result);
    }

    private Task<string> Post(Webhook webhook, string review, CancellationToken cancellationToken)
    {
        if (webhook.Client.ServiceName is { } service)
        {
            // The sandbox has no cluster network: a Service has no endpoints to call.
            var exists = store.List(ResourceTypes.Services, webhook.Client.ServiceNamespace, o => Meta.Name(o) == service).Items.Count > 0;
            throw new WebhookCallException($"failed to call webhook: Post \"{webhook.Client.Describe(webhook.TimeoutSeconds)}\": "
                + (exists ? $"no endpoints available for service \"{service}\"" : $"service \"{service}\" not found"));
        }

        return _caller.PostAsync(webhook, review, cancellationToken);
    }

    /// <summary>A webhook's patch that does not apply is the API server's internal error, whatever the failurePolicy.</summary>
    private static JsonObject ApplyPatch(Webhook webhook, JsonObject obj, JsonArray patch)
    {
        try
        {
            return Patching.ApplyJsonPatch(obj, patch) as JsonObject
                ?? throw InternalError($"admission webhook \"{webhook.Name}\" patched the object into something that is not an object");
        }
        catch (KubeException e) when (e.Code == 422)
        {
            throw InternalError($"admission webhook \"{webhook.Name}\" returned a patch that does not apply: {e.Message}");
        }
    }

    /// <summary>
    /// The denial as Kubernetes 1.32 answers it: the webhook's status with its code (below 400 made 400), reason and
    /// details, and the message "admission webhook "NAME" denied the request: MESSAGE" (or its reason, or "without
    /// explanation").
    /// </summary>
    private static KubeException Denied(string webhook, JsonObject? result)
    {
        var code = int.TryParse(Meta.Str(result, "code"), out var c) && c >= 400 ? c : 400;
        var deniedBy = $"admission webhook \"{webhook}\" denied the request";
        var message = (Meta.Str(result, "message"), Meta.Str(result, "reason")) switch
        {
            ({ Length: > 0 } m, _) => $"{deniedBy}: {m}",
            (_, { Length: > 0 } r) => $"{deniedBy}: {r}",
            _ => $"{deniedBy} without explanation",
        };
        return new KubeException(code, Meta.Str(result, "reason") ?? "", message) { Details = result?["details"] as JsonObject };
    }

    private static KubeException InternalError(string cause) =>
        new(500, "InternalError", $"Internal error occurred: {cause}")
        {
            Details = new JsonObject { ["causes"] = new JsonArray(new JsonObject { ["message"] = cause }) },
        };

    [LoggerMessage(Level = LogLevel.Warning, Message = "Failed calling webhook, failing open {Webhook}: {Cause}")]
    private static partial void LogFailedOpen(ILogger logger, string webhook, string cause);
}
