using System.Net;
using System.Net.Sockets;
using BranchEni.Sandbox.Admin;
using BranchEni.Sandbox.Ec2;
using BranchEni.Sandbox.Ec2.Model;
using BranchEni.Sandbox.Ec2.Throttling;
using BranchEni.Sandbox.Imds;
using BranchEni.Sandbox.Kubernetes;
using BranchEni.Sandbox.Kubernetes.Admission;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace BranchEni.Sandbox.Hosting;

/// <summary>
/// The whole sandbox in one object: EC2, IMDS, the Kubernetes API and the admin endpoint, each its own Kestrel
/// listener on 127.0.0.1 with an OS-chosen port, sharing one emulated world. Tests start it in process
/// (<c>await using var sandbox = await SandboxHost.StartAsync();</c>); the executable wraps the same class.
/// </summary>
public sealed class SandboxHost : IAsyncDisposable, IDisposable
{
    private readonly List<WebApplication> _apps;
    private readonly string? _stateDirectory;
    private int _stopped;

    private readonly Ec2State _state;
    private readonly ImdsListeners _imds;
    private readonly Lock _stateFilesGate = new();

    private SandboxHost(
        List<WebApplication> apps, SandboxEndpoints endpoints, SandboxAdmin admin, KubernetesStore kubernetes, SandboxIdentities identities, string? stateDirectory,
        Ec2State state, ImdsListeners imds)
    {
        _apps = apps;
        _state = state;
        _imds = imds;
        Endpoints = endpoints;
        Admin = admin;
        Kubernetes = kubernetes;
        Identities = identities;
        _stateDirectory = stateDirectory;
    }

    public SandboxEndpoints Endpoints { get; }

    /// <summary>The API server's users (admin, agent, user) with their bearer tokens; see <see cref="Kubeconfig"/>.</summary>
    public SandboxIdentities Identities { get; }

    /// <summary>Faults, throttling, latency, call counts, EC2 snapshot, instances at runtime.</summary>
    public SandboxAdmin Admin { get; }

    internal KubernetesStore Kubernetes { get; }

    /// <summary>
    /// The kubeconfig text (the same as DIR/kubeconfig) with <paramref name="context"/> as its current context, for a
    /// client acting as that identity: write it to a file for kubectl or KubernetesClient's BuildConfigFromConfigFile.
    /// </summary>
    public string Kubeconfig(string context = SandboxIdentities.AdminContext) => StateFiles.Kubeconfig(Endpoints.Kubernetes, Identities, context);

    /// <summary>Starts every listener, then (when a state directory is set) writes endpoints.json and kubeconfig.</summary>
    public static async Task<SandboxHost> StartAsync(SandboxOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new SandboxOptions();
        if (options.StateDirectory is { } dir && File.Exists(Path.Combine(dir, StateFiles.EndpointsFile)))
        {
            StateFiles.RemoveEndpoints(dir);
        }

        var state = new Ec2State(options.Seed);
        var throttle = new Ec2Throttle(options.Throttling);
        var kubernetes = new KubernetesStore(options.Seed, id => InstanceFacts(state, id));
        var identities = new SandboxIdentities();
        var apps = new List<WebApplication>();
        var listeners = new ImdsListeners(state, () => Build(null, _ => { }));
        try
        {
            var ec2App = Build(apps, s => s.AddSingleton(state).AddSingleton(throttle).AddSingleton<Ec2Service>());
            var ec2 = ec2App.Services.GetRequiredService<Ec2Service>();
            ec2.Latency = options.Latency;
            ec2.Faults = options.Faults;
            ec2App.Run(ec2.HandleAsync);

            var imds = new ImdsService(state);
            Build(apps, _ => { }).Run(imds.HandleAsync);

            var kubeApp = Build(apps, s => s.AddSingleton(kubernetes).AddSingleton(identities).AddSingleton<AdmissionWebhooks>().AddSingleton<KubernetesService>());
            kubeApp.Run(kubeApp.Services.GetRequiredService<KubernetesService>().HandleAsync);

            var admin = new SandboxAdmin(state, ec2, throttle, kubernetes) { Latency = options.Latency, Faults = options.Faults };
            Build(apps, _ => { }).Run(new AdminService(admin).HandleAsync);

            foreach (var app in apps)
            {
                await app.StartAsync(cancellationToken).ConfigureAwait(false);
            }

            foreach (var id in RunningInstances(state))
            {
                await listeners.StartAsync(id, cancellationToken).ConfigureAwait(false);
            }

            var urls = apps.Select(Address).ToList();
            var endpoints = new SandboxEndpoints(urls[0], urls[1], urls[2], urls[3]) { ImdsByInstance = listeners.Endpoints };
            var host = new SandboxHost(apps, endpoints, admin, kubernetes, identities, options.StateDirectory, state, listeners);
            admin.InstanceLaunched = id => host.OnInstanceChanged(listeners.StartAsync(id));
            admin.InstanceTerminated = id => host.OnInstanceChanged(listeners.StopAsync(id));
            host.WriteStateFiles();
            return host;
        }
        catch
        {
            await listeners.StopAllAsync().ConfigureAwait(false);
            foreach (var app in apps)
            {
                await app.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }
    }

    /// <summary>What a seeded Node needs of its instance (type, zone, primary address), or null for an unknown one.</summary>
    private static (string InstanceType, string Zone, string Ip)? InstanceFacts(Ec2State state, string id)
    {
        lock (state.Gate)
        {
            var instance = state.Instances.FirstOrDefault(i => i.Id == id);
            return instance is null
                ? null
                : (instance.InstanceType, instance.AvailabilityZone, state.Eni(instance.PrimaryEniId).PrivateIp.ToString());
        }
    }

    private static List<string> RunningInstances(Ec2State state)
    {
        lock (state.Gate)
        {
            return state.Instances.Where(i => i.Running).Select(i => i.Id).ToList();
        }
    }

    /// <summary>
    /// Runs a listener change to its end (the admin call that caused it answers only once the listener is up or gone),
    /// then rewrites endpoints.json so its imdsByInstance stays true.
    /// </summary>
    private void OnInstanceChanged(Task change)
    {
        change.GetAwaiter().GetResult();
        WriteStateFiles();
    }

    private void WriteStateFiles()
    {
        lock (_stateFilesGate)
        {
            if (_stateDirectory is not null && Volatile.Read(ref _stopped) == 0)
            {
                StateFiles.Write(_stateDirectory, Endpoints, Identities);
            }
        }
    }

    /// <summary>
    /// Serves IMDSv2 describing <paramref name="instanceId"/> on <paramref name="bound"/>, a socket bound elsewhere (the
    /// fabric binds 169.254.169.254:80 inside the VPC router's namespace). Kestrel listens on it and closes it when the
    /// sandbox stops.
    /// </summary>
    internal async Task ServeImdsAsync(Socket bound, string instanceId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(bound);
        var endpoint = (IPEndPoint)bound.LocalEndPoint!;
        var app = Build(_apps, _ => { }, web => web.UseSockets(o => o.CreateBoundListenSocket = _ => bound), k => k.Listen(endpoint));
        app.Run(new ImdsService(_state, instanceId).HandleAsync);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        lock (_stateFilesGate)
        {
            if (_stateDirectory is not null)
            {
                StateFiles.RemoveEndpoints(_stateDirectory);
            }
        }

        Kubernetes.Shutdown();
        await _imds.StopAllAsync().ConfigureAwait(false);
        foreach (var app in _apps)
        {
            await app.StopAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        foreach (var app in _apps)
        {
            await app.DisposeAsync().ConfigureAwait(false);
        }
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private static WebApplication Build(List<WebApplication>? apps, Action<IServiceCollection> services,
        Action<IWebHostBuilder>? transport = null, Action<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>? listen = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.UseKestrel(listen ?? (k => k.Listen(IPAddress.Loopback, 0)));
        transport?.Invoke(builder.WebHost);
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        // The SandboxHost owner decides when to stop; the default console lifetime would also react to SIGTERM/SIGINT
        // once per listener and race our own orderly shutdown.
        builder.Services.AddSingleton<Microsoft.Extensions.Hosting.IHostLifetime, OwnerLifetime>();
        services(builder.Services);
        var app = builder.Build();
        apps?.Add(app);
        return app;
    }

    internal static Uri Address(WebApplication app)
    {
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        return new Uri(addresses.First());
    }

    private sealed class OwnerLifetime : Microsoft.Extensions.Hosting.IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
