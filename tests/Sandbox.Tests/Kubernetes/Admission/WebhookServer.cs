using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace BranchEni.Sandbox.Tests.Kubernetes.Admission;

/// <summary>
/// A real admission webhook server for tests: Kestrel over HTTPS on 127.0.0.1 with a certificate from
/// <see cref="TestCertificates"/>. Each path has a handler from the AdmissionRequest to the AdmissionResponse (the
/// server copies the request's uid into it unless the handler set one); every request it received is kept.
/// </summary>
internal sealed class WebhookServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private WebhookServer(WebApplication app, TestCertificates certificates)
    {
        _app = app;
        Certificates = certificates;
    }

    public TestCertificates Certificates { get; }

    public Uri BaseAddress { get; private set; } = null!;

    public ConcurrentDictionary<string, Func<JsonObject, Task<JsonObject>>> Handlers { get; } = new(StringComparer.Ordinal);

    /// <summary>(path, AdmissionRequest) in arrival order.</summary>
    public ConcurrentQueue<(string Path, JsonObject Request)> Calls { get; } = new();

    public string CaBundle => Certificates.CaBundle;

    public static async Task<WebhookServer> StartAsync(bool ipSan = true)
    {
        var certificates = TestCertificates.Create(ipSan);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0, o => o.UseHttps(certificates.Server)));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new WebhookServer(app, certificates);
        app.Run(server.ServeAsync);
        await app.StartAsync();
        server.BaseAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return server;
    }

    public string Url(string path) => new Uri(BaseAddress, path).ToString();

    public static JsonObject Allow() => new() { ["allowed"] = true };

    public static JsonObject Deny(string message, int? code = null)
    {
        var status = new JsonObject { ["message"] = message };
        if (code is { } c)
        {
            status["code"] = c;
        }

        return new JsonObject { ["allowed"] = false, ["status"] = status };
    }

    /// <summary>An allowing answer carrying a JSONPatch (base64, patchType JSONPatch).</summary>
    public static JsonObject Patch(JsonArray operations) => new()
    {
        ["allowed"] = true,
        ["patchType"] = "JSONPatch",
        ["patch"] = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(operations.ToJsonString())),
    };

    public IEnumerable<JsonObject> CallsTo(string path) => Calls.Where(c => c.Path == path).Select(c => c.Request);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        Certificates.Dispose();
    }

    private async Task ServeAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "";
        var review = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted) as JsonObject;
        var request = (JsonObject)review!["request"]!.DeepClone();
        Calls.Enqueue((path, request));
        if (!Handlers.TryGetValue(path, out var handler))
        {
            context.Response.StatusCode = 404;
            return;
        }

        var response = await handler(request);
        response["uid"] ??= request["uid"]!.DeepClone();
        var answer = new JsonObject { ["apiVersion"] = "admission.k8s.io/v1", ["kind"] = "AdmissionReview", ["response"] = response };
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(answer.ToJsonString(), context.RequestAborted);
    }
}
