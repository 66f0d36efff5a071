using Amazon.EC2;
using BranchEni.Agent.Configuration;
using BranchEni.Agent.Kubernetes;
using BranchEni.Agent.Observability;
using Serilog;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace BranchEni.Agent;

/// <summary>Wires `run`: validate options, JSON logs on stdout, real clients, health endpoints, the agent.</summary>
internal static class AgentHost
{
    public static async Task<int> RunFromCommandLineAsync(AgentOptions options, CancellationToken cancellationToken)
    {
        var problems = options.Validate();
        foreach (var problem in problems)
        {
            await Console.Error.WriteLineAsync($"branch-eni-agent: {problem}").ConfigureAwait(false);
        }

        if (problems.Count > 0)
        {
            return 2;
        }

        using var log = CreateLogger(options.LogLevel);
        KubeApi kube;
        try
        {
            kube = KubeApi.Connect(options.Kubeconfig);
        }
        catch (Exception e) when (e is k8s.Exceptions.KubeConfigException or IOException)
        {
            log.Fatal("Cannot load the Kubernetes configuration ({Source}): {Error}", options.Kubeconfig ?? "in-cluster", e.Message);
            return 2;
        }

        using (kube)
        using (var imds = new HttpClient { Timeout = TimeSpan.FromSeconds(5) })
        {
            var agent = new Agent(options, new AgentClients(region => CreateEc2(options, region), kube, imds), log);
            AgentOptions.TryParseLoopback(options.HealthAddress, out var endpoint);
            using var health = new HealthServer(endpoint, agent.Metrics, () => agent.Healthy, () => agent.NotReadyReason, log);
            health.Start();
            using var scrape = options.MetricsAddress is { } address
                ? new HealthServer(System.Net.IPEndPoint.Parse(address), agent.Metrics, () => agent.Healthy, () => agent.NotReadyReason, log) { MetricsOnly = true }
                : null;
            scrape?.Start();
            var serving = Task.WhenAll(health.RunAsync(cancellationToken), scrape?.RunAsync(cancellationToken) ?? Task.CompletedTask);
            log.Information("branch-eni-agent starting on node {Node}", options.NodeName);
            try
            {
                await agent.RunAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception)
            {
                return 1;
            }

            await serving.ConfigureAwait(false);
        }

        return 0;
    }

    internal static IAmazonEC2 CreateEc2(AgentOptions options, string region) => Ec2ClientFactory.Create(options.Ec2Endpoint, region);

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
