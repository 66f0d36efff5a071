using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace BranchEni.Testing;

/// <summary>
/// A loopback reverse proxy in front of the sandbox's API server that records every request the agent sends
/// (method, path and query) and streams answers through unchanged, watches included. Only the agent's kubeconfig
/// points here, so the record is exactly the agent's traffic, which is what its RBAC must allow. Requests matching
/// <see cref="Hold"/> wait until <see cref="Release"/> (an API server slow to answer one list, say).
/// </summary>
public sealed class RecordingProxy : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly HttpClient _upstream;
    private readonly Uri _target;

    private RecordingProxy(WebApplication app, Uri target)
    {
        _app = app;
        _target = target;
        _upstream = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public ConcurrentQueue<(string Method, string PathAndQuery)> Requests { get; } = new();

    public Uri Address { get; private set; } = null!;

    /// <summary>Requests (path and query) for which this is true are recorded, then wait for <see cref="Release"/>.</summary>
    public Func<string, bool> Hold { get; set; } = _ => false;

    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Lets held requests through (and every later one: <see cref="Hold"/> no longer applies).</summary>
    public void Release()
    {
        Hold = _ => false;
        _released.TrySetResult();
    }

    public static async Task<RecordingProxy> StartAsync(Uri target)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var proxy = new RecordingProxy(app, target);
        app.Run(proxy.ForwardAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        proxy.Address = new Uri(address);
        return proxy;
    }

    private async Task ForwardAsync(HttpContext context)
    {
        var pathAndQuery = context.Request.Path.Value + context.Request.QueryString.Value;
        Requests.Enqueue((context.Request.Method, pathAndQuery));
        if (Hold(pathAndQuery))
        {
            await _released.Task.WaitAsync(context.RequestAborted);
        }

        using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), new Uri(_target, pathAndQuery));
        if (context.Request.ContentLength is > 0 || context.Request.Headers.TransferEncoding.Count > 0)
        {
            request.Content = new StreamContent(context.Request.Body);
            if (context.Request.ContentType is { } type)
            {
                request.Content.Headers.TryAddWithoutValidation("Content-Type", type);
            }
        }

        foreach (var name in new[] { "Authorization", "Accept", "User-Agent" })
        {
            if (context.Request.Headers.TryGetValue(name, out var value))
            {
                request.Headers.TryAddWithoutValidation(name, value.ToArray());
            }
        }

        try
        {
            using var response = await _upstream.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
            context.Response.StatusCode = (int)response.StatusCode;
            if (response.Content.Headers.ContentType is { } contentType)
            {
                context.Response.ContentType = contentType.ToString();
            }

            // Watches are long streams of lines: pass each read on at once.
            await using var body = await response.Content.ReadAsStreamAsync(context.RequestAborted);
            var buffer = new byte[16 * 1024];
            int read;
            while ((read = await body.ReadAsync(buffer, context.RequestAborted)) > 0)
            {
                await context.Response.Body.WriteAsync(buffer.AsMemory(0, read), context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException && context.RequestAborted.IsCancellationRequested)
        {
            // The agent closed the watch.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _upstream.Dispose();
    }
}
