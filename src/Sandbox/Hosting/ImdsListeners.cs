using System.Collections.Concurrent;
using BranchEni.Sandbox.Ec2.Model;
using BranchEni.Sandbox.Imds;
using Microsoft.AspNetCore.Builder;

namespace BranchEni.Sandbox.Hosting;

/// <summary>
/// One IMDSv2 listener per running instance, all live at once, so every node's agent reads its own identity (a real
/// instance reaches only its own 169.254.169.254). Launching an instance starts one; terminating it stops it, after
/// which its port refuses connections, as a terminated instance's metadata service is gone with it.
/// </summary>
internal sealed class ImdsListeners(Ec2State state, Func<WebApplication> build)
{
    private readonly ConcurrentDictionary<string, WebApplication> _apps = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Uri> _endpoints = new(StringComparer.Ordinal);

    /// <summary>Live: instance id -> http://127.0.0.1:P of that instance's IMDS.</summary>
    public IReadOnlyDictionary<string, Uri> Endpoints => _endpoints;

    public async Task StartAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        var app = build();
        if (!_apps.TryAdd(instanceId, app))
        {
            await app.DisposeAsync().ConfigureAwait(false);
            return;
        }

        app.Run(new ImdsService(state, instanceId).HandleAsync);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        _endpoints[instanceId] = SandboxHost.Address(app);
    }

    public async Task StopAsync(string instanceId)
    {
        _endpoints.TryRemove(instanceId, out _);
        if (_apps.TryRemove(instanceId, out var app))
        {
            await app.StopAsync().ConfigureAwait(false);
            await app.DisposeAsync().ConfigureAwait(false);
        }
    }

    public async Task StopAllAsync()
    {
        foreach (var id in _apps.Keys.ToList())
        {
            await StopAsync(id).ConfigureAwait(false);
        }
    }
}
