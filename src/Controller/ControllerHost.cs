using BranchEni.Controller.Configuration;
using BranchEni.Kube;
using Serilog;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace BranchEni.Controller;

/// <summary>Wires `run`: JSON logs on stdout (as the agent's), the API connection, the controller.</summary>
internal static class ControllerHost
{
    public static async Task<int> RunFromCommandLineAsync(ControllerOptions options, CancellationToken ct)
    {
        using var log = CreateLogger(options.LogLevel);
        KubeConnection kube;
        try
        {
            kube = KubeConnection.Connect(options.Kubeconfig);
        }
        catch (Exception e) when (e is k8s.Exceptions.KubeConfigException or IOException)
        {
            log.Fatal("Cannot load the Kubernetes configuration ({Source}): {Error}", options.Kubeconfig ?? "in-cluster", e.Message);
            return 2;
        }

        using (kube)
        {
            try
            {
                await new BranchEniController(options, kube, log).RunAsync(ct).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                // Kestrel could not bind (address in use, no permission).
                log.Fatal("branch-eni-controller cannot serve: {Error}", e.Message);
                return 1;
            }
        }

        return 0;
    }

    internal static Serilog.Core.Logger CreateLogger(string level) => new LoggerConfiguration()
        .MinimumLevel.Is(level switch
        {
            "debug" => LogEventLevel.Debug,
            "warn" => LogEventLevel.Warning,
            "error" => LogEventLevel.Error,
            _ => LogEventLevel.Information,
        })
        .WriteTo.Console(new CompactJsonFormatter())
        .CreateLogger();
}
