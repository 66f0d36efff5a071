using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using BranchEni.Controller.Configuration;
using BranchEni.Kube;
using BranchEni.Sandbox.Hosting;
using Serilog;

namespace BranchEni.Controller.Tests.Sandbox;

/// <summary>
/// The sandbox (API server with admission) and one real controller, in process, reached only over HTTP(S): the
/// controller through KubernetesClient, its webhooks by the sandbox's API server with the controller's own CA, the
/// test through kubectl with the sandbox's admin, agent and user contexts. The webhook configurations are the ones
/// in packaging/base/webhooks.yaml; the controller rewrites their clientConfig to its --webhook-url.
/// </summary>
public class ControllerWorld : IAsyncLifetime
{
    private CancellationTokenSource _stop = new();
    private Task _run = Task.CompletedTask;

    public SandboxHost Sandbox { get; private set; } = null!;

    internal BranchEniController Controller { get; private set; } = null!;

    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("controller-world-").FullName;

    public Uri Health { get; private set; } = null!;

    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(30) };

    public async Task InitializeAsync()
    {
        // The controller takes EC2 credentials from the SDK's default chain, as in a cluster; the sandbox accepts any.
        if (Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID") is null)
        {
            Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", "AKIASANDBOXEXAMPLE");
            Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", "sandbox-secret");
        }

        Sandbox = await SandboxHost.StartAsync(new SandboxOptions());
        foreach (var context in new[] { "admin", "agent", "user" })
        {
            await File.WriteAllTextAsync(KubeconfigPath(context), Sandbox.Kubeconfig(context));
        }

        await Kubectl.RunAsync(this, "admin", """{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "app"}}""", "apply", "-f", "-");
        await Kubectl.RunAsync(this, "admin", null, "apply", "-f", RepoPath("packaging", "base", "webhooks.yaml"));
        await StartControllerAsync();
    }

    /// <summary>A fixture's own settings for every controller it starts.</summary>
    internal virtual ControllerOptions Configure(ControllerOptions options) => options;

    public string KubeconfigPath(string context) => Path.Combine(Directory, $"kubeconfig-{context}");

    /// <summary>Starts the controller (again) on fresh loopback ports and waits until /readyz answers 200.</summary>
    internal async Task StartControllerAsync(Func<ControllerOptions, ControllerOptions>? configure = null)
    {
        var webhookPort = FreePort();
        var healthPort = FreePort();
        var options = new ControllerOptions
        {
            Kubeconfig = KubeconfigPath("admin"),
            WebhookAddress = $"127.0.0.1:{webhookPort}",
            WebhookUrl = $"https://127.0.0.1:{webhookPort}",
            HealthAddress = $"127.0.0.1:{healthPort}",
            PodNamespace = "kube-system",
            CertificateCheckInterval = TimeSpan.FromSeconds(1),
            LeaseRetryPeriod = TimeSpan.FromMilliseconds(500),
            Ec2Endpoint = Sandbox.Endpoints.Ec2,
            Region = "us-west-2",
            SgMembershipInterval = TimeSpan.FromSeconds(1),
        };
        options = configure?.Invoke(Configure(options)) ?? Configure(options);
        Assert.Empty(options.Validate());
        Health = new Uri($"http://127.0.0.1:{healthPort}");
        var log = new LoggerConfiguration().MinimumLevel.Debug().WriteTo.Sink(Log).CreateLogger();
        Controller = new BranchEniController(options, KubeConnection.Connect(options.Kubeconfig), log);
        _run = Task.Run(() => Controller.RunAsync(_stop.Token));
        await Eventually(async () => (await Http.GetAsync(new Uri(Health, "/readyz"))).StatusCode == HttpStatusCode.OK, "the controller's /readyz");
        await Eventually(async () => await WebhooksPointAtControllerAsync(webhookPort), "both configurations' clientConfig to point at the controller");
    }

    /// <summary>Stops the running controller; <see cref="StartControllerAsync"/> may start another.</summary>
    public async Task StopControllerAsync()
    {
        await _stop.CancelAsync();
        await _run;
        _stop.Dispose();
        _stop = new CancellationTokenSource();
    }

    private async Task<bool> WebhooksPointAtControllerAsync(int port)
    {
        foreach (var kind in new[] { "mutatingwebhookconfiguration", "validatingwebhookconfiguration" })
        {
            var config = JsonNode.Parse((await Kubectl.RunAsync(this, "admin", null, "get", kind, "branch-eni", "-o", "json")).Stdout)!;
            var client = config["webhooks"]![0]!["clientConfig"]!;
            if (client["url"]?.GetValue<string>()?.StartsWith($"https://127.0.0.1:{port}/", StringComparison.Ordinal) != true || client["caBundle"] is null)
            {
                return false;
            }
        }

        return true;
    }

    public CollectingSink Log { get; } = new();

    public static async Task Eventually(Func<Task<bool>> condition, string what, int seconds = 20)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }

            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(seconds), $"waited {seconds} s for {what}");
            await Task.Delay(100);
        }
    }

    public static string RepoPath(params string[] parts)
    {
        var dir = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(dir, "Cni.sln")))
        {
            dir = Path.GetDirectoryName(dir) ?? throw new InvalidOperationException("no Cni.sln above the test directory");
        }

        return Path.Combine([dir, .. parts]);
    }

    internal static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    public async Task DisposeAsync()
    {
        await StopControllerAsync();
        await Sandbox.DisposeAsync();
        Http.Dispose();
        _stop.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}

/// <summary>Keeps the controller's log events for assertions and failure messages.</summary>
public sealed class CollectingSink : Serilog.Core.ILogEventSink
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _lines = new();

    public IEnumerable<string> Lines => _lines;

    public void Emit(Serilog.Events.LogEvent logEvent)
    {
        ArgumentNullException.ThrowIfNull(logEvent);
        _lines.Enqueue($"{logEvent.Level}: {logEvent.RenderMessage(System.Globalization.CultureInfo.InvariantCulture)}");
    }
}

/// <summary>kubectl against the sandbox as one of its contexts.</summary>
public static class Kubectl
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    /// <summary>Runs kubectl; a non-zero exit is an assertion failure.</summary>
    public static async Task<Result> RunAsync(ControllerWorld world, string context, string? stdin, params string[] args) =>
        await RunAsync(world, context, stdin, false, args);

    /// <summary>Runs kubectl; a non-zero exit is an assertion failure unless <paramref name="mayFail"/>.</summary>
    public static async Task<Result> RunAsync(ControllerWorld world, string context, string? stdin, bool mayFail, params string[] args)
    {
        ArgumentNullException.ThrowIfNull(world);
        var start = new ProcessStartInfo("kubectl") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        start.ArgumentList.Add("--kubeconfig");
        start.ArgumentList.Add(world.KubeconfigPath(context));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        await process.StandardInput.WriteAsync(stdin ?? "");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var result = new Result(process.ExitCode, await stdout, await stderr);
        Assert.True(mayFail || result.ExitCode == 0, $"kubectl {string.Join(' ', args)} as {context} exited {result.ExitCode}: {result.Stderr}");
        return result;
    }
}
