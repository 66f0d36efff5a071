using System.Diagnostics;
using System.Text.Json;
using BranchEni.Controller.Configuration;
using BranchEni.Controller.Kubernetes;
using BranchEni.Controller.Observability;
using Microsoft.AspNetCore.Http;
using Serilog;

namespace BranchEni.Controller.Admission;

/// <summary>The two webhook endpoints: read the AdmissionReview, decide, answer, count.</summary>
internal sealed class WebhookHandlers(PolicyCache cache, ControllerOptions options, ControllerMetrics metrics, ILogger log)
{
    public const string Mutating = "mutate-pod-eni";
    public const string Validating = "validate-pod-eni-annotation";

    public Task MutateAsync(HttpContext context) =>
        AnswerAsync(context, Mutating, request => PodEniInjector.Decide(request, cache.Inputs with { SgAnnotation = options.SgAnnotation }));

    /// <summary>The pod-eni annotation guard, then the guard of Calico's names (sg labels, the security-groups annotation).</summary>
    public Task ValidateAsync(HttpContext context) =>
        AnswerAsync(context, Validating, request => AnnotationGuard.Decide(request, options.AgentIdentities) is { Allowed: false } denied
            ? denied
            : SecurityGroupGuard.Decide(request, options.AgentIdentities, options.SgAnnotation));

    private async Task AnswerAsync(HttpContext context, string webhook, Func<AdmissionRequest, AdmissionVerdict> decide)
    {
        var started = Stopwatch.GetTimestamp();
        JsonDocument document;
        AdmissionRequest request;
        try
        {
            document = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted).ConfigureAwait(false);
            request = AdmissionRequest.Parse(document.RootElement);
        }
        catch (Exception e) when (e is JsonException or FormatException)
        {
            metrics.Admission(webhook, "error", Stopwatch.GetElapsedTime(started));
            log.Warning("Webhook {Webhook} got a request that is not an AdmissionReview: {Error}", webhook, e.Message);
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync($"not an admission.k8s.io/v1 AdmissionReview: {e.Message}\n", context.RequestAborted).ConfigureAwait(false);
            return;
        }

        using (document)
        {
            var verdict = decide(request);
            context.Response.ContentType = "application/json";
            await using (var json = new Utf8JsonWriter(context.Response.Body))
            {
                verdict.WriteReview(json, request.Uid);
            }

            metrics.Admission(webhook, verdict.Outcome, Stopwatch.GetElapsedTime(started));
            Log(webhook, request, verdict);
        }
    }

    private void Log(string webhook, AdmissionRequest request, AdmissionVerdict verdict)
    {
        var name = request.Object.ValueKind == JsonValueKind.Object && request.Object.TryGetProperty("metadata", out var m) && m.ValueKind == JsonValueKind.Object
            ? (m.TryGetProperty("name", out var n) ? n.GetString() : null) ?? (m.TryGetProperty("generateName", out var g) ? g.GetString() + "*" : null)
            : null;
        var level = verdict.Outcome == "allowed" ? Serilog.Events.LogEventLevel.Debug : Serilog.Events.LogEventLevel.Information;
        log.Write(level, "Webhook {Webhook} {Outcome} {Operation} of pod {Namespace}/{Pod} by {User}: {Message}",
            webhook, verdict.Outcome, request.Operation, request.Namespace, name, request.UserName, verdict.Message ?? "");
    }
}
