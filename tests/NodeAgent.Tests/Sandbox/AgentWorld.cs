using BranchEni.Agent.Configuration;
using BranchEni.Agent.Kubernetes;
using BranchEni.Sandbox.Hosting;
using Serilog;

namespace BranchEni.Agent.Tests.Sandbox;

/// <summary>The sandbox plus one in-process agent on its node, wired with the real SDK clients over HTTP.</summary>
internal sealed class AgentWorld : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly List<(Agent Agent, Task Run, KubeApi Api, HttpClient Imds, CancellationTokenSource Stop)> _agents = [];

    private AgentWorld(SandboxWorld sandbox, AgentOptions options)
    {
        Sandbox = sandbox;
        Options = options;
        Kube = new KubeTestClient(sandbox.Host.Endpoints.Kubernetes);
    }

    public SandboxWorld Sandbox { get; }

    public AgentOptions Options { get; }

    public KubeTestClient Kube { get; }

    public Agent Agent => _agents[^1].Agent;

    public const string NodeName = "node-1";

    /// <summary>Starts the sandbox only; <see cref="StartAgent"/> starts an agent.</summary>
    public static async Task<AgentWorld> CreateAsync(Action<SandboxOptions>? sandbox = null, Func<AgentOptions, AgentOptions>? configure = null)
    {
        var world = await SandboxWorld.StartAsync(sandbox);
        var options = new AgentOptions
        {
            EnablePodEni = true,
            ClusterName = "demo",
            NodeName = NodeName,
            Kubeconfig = world.KubeconfigPath,
            ImdsEndpoint = world.Host.Endpoints.Imds,
            Ec2Endpoint = world.Host.Endpoints.Ec2,
            StateDir = Path.Combine(world.StateDir, "records"),
            CniBinDir = null,
            CniConfDir = null,
            Workers = 8,
            CooldownSeconds = 30,

            // Test-only shortening (not reachable from env or flags; the operator minimum stays 30 s).
            TestCooldownOverride = TimeSpan.FromMilliseconds(300),
            GcInterval = TimeSpan.FromMilliseconds(500),
            TrunkLinkWait = TimeSpan.FromMilliseconds(200),
            WatchIdleTimeout = TimeSpan.FromSeconds(30),
        };
        var agentWorld = new AgentWorld(world, configure?.Invoke(options) ?? options);
        foreach (var ns in new[] { "app", "other" })
        {
            await agentWorld.Kube.CreateNamespaceAsync(ns);
        }

        return agentWorld;
    }

    public Agent StartAgent(AgentOptions? options = null)
    {
        options ??= Options;
        var log = new LoggerConfiguration().MinimumLevel.Debug().WriteTo.Sink(LogSink).CreateLogger();
        var api = KubeApi.Connect(options.Kubeconfig);
        var imds = new HttpClient();
        var agent = new Agent(options, new AgentClients(_ => SandboxWorld.CreateEc2(Sandbox.Host.Endpoints.Ec2), api, imds), log)
        {
            ShutdownGrace = TimeSpan.FromSeconds(2),
        };
        var stop = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        _agents.Add((agent, Task.Run(() => agent.RunAsync(stop.Token)), api, imds, stop));
        return agent;
    }

    /// <summary>Stops one agent as SIGTERM would (its records stay on disk, its ENIs in EC2).</summary>
    public async Task StopAgentAsync(Agent agent)
    {
        var (_, run, _, _, stop) = _agents.Single(a => a.Agent == agent);
        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(10));
    }

    public CollectingSink LogSink { get; } = new();

    public static async Task<T> EventuallyAsync<T>(Func<Task<T?>> probe, TimeSpan timeout, string what)
        where T : class
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (await probe() is { } value)
            {
                return value;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"timed out after {timeout.TotalSeconds:0} s waiting for {what}");
            }

            await Task.Delay(50);
        }
    }

    public static async Task EventuallyAsync(Func<Task<bool>> probe, TimeSpan timeout, string what) =>
        await EventuallyAsync<object>(async () => await probe() ? new object() : null, timeout, what);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        foreach (var (_, run, api, imds, stop) in _agents)
        {
            await run.WaitAsync(TimeSpan.FromSeconds(10));
            api.Dispose();
            imds.Dispose();
            stop.Dispose();
        }

        Kube.Dispose();
        await Sandbox.DisposeAsync();
        _stop.Dispose();
    }
}

/// <summary>Keeps log lines for assertions ("a clear log line").</summary>
internal sealed class CollectingSink : Serilog.Core.ILogEventSink
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _lines = new();

    public IEnumerable<string> Lines => _lines;

    // ":l" renders string properties without quotes, as an operator reads the line.
    private static readonly Serilog.Formatting.Display.MessageTemplateTextFormatter Format = new("{Level}: {Message:l}", System.Globalization.CultureInfo.InvariantCulture);

    public void Emit(Serilog.Events.LogEvent logEvent)
    {
        using var text = new StringWriter(System.Globalization.CultureInfo.InvariantCulture);
        Format.Format(logEvent, text);
        _lines.Enqueue(text.ToString());
    }
}
