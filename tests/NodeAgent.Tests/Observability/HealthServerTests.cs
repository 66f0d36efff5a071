using System.Net;
using System.Net.Sockets;
using BranchEni.Agent.Observability;

namespace BranchEni.Agent.Tests.Observability;

public sealed class HealthServerTests
{
    [Fact]
    public async Task The_scrape_address_serves_metrics_and_nothing_else()
    {
        var port = FreePort();
        using var server = new HealthServer(new IPEndPoint(IPAddress.Loopback, port), new AgentMetrics { BranchesInUse = () => 2, FreeVlans = () => 7 },
            () => true, () => null, Serilog.Core.Logger.None) { MetricsOnly = true };
        server.Start();
        using var stop = new CancellationTokenSource();
        var run = server.RunAsync(stop.Token);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };

        Assert.Contains("branch_eni_branches_in_use 2\n", await http.GetStringAsync("metrics"), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("readyz")).StatusCode);
        await stop.CancelAsync();
        await run;
    }

    [Fact]
    public async Task Serves_health_readiness_and_prometheus_metrics_on_loopback()
    {
        var port = FreePort();
        var metrics = new AgentMetrics { BranchesInUse = () => 3, FreeVlans = () => 6 };
        metrics.Ec2Call("CreateNetworkInterface", "success");
        metrics.ObservePodAnnotated(TimeSpan.FromMilliseconds(300));
        string? notReady = "informers not synced";
        using var server = new HealthServer(new IPEndPoint(IPAddress.Loopback, port), metrics, () => true, () => notReady, Serilog.Core.Logger.None);
        server.Start();
        using var stop = new CancellationTokenSource();
        var run = server.RunAsync(stop.Token);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("healthz")).StatusCode);
        var readyz = await http.GetAsync("readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, readyz.StatusCode);
        Assert.Equal("informers not synced\n", await readyz.Content.ReadAsStringAsync());
        notReady = null;
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("readyz")).StatusCode);
        var text = await http.GetStringAsync("metrics");
        Assert.Contains("branch_eni_branches_in_use 3\n", text, StringComparison.Ordinal);
        Assert.Contains("branch_eni_free_vlans 6\n", text, StringComparison.Ordinal);
        Assert.Contains("branch_eni_ec2_calls_total{action=\"CreateNetworkInterface\",outcome=\"success\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("branch_eni_pod_annotate_seconds_bucket{le=\"0.25\"} 0\n", text, StringComparison.Ordinal);
        Assert.Contains("branch_eni_pod_annotate_seconds_bucket{le=\"0.5\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("branch_eni_pod_annotate_seconds_count 1\n", text, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("nope")).StatusCode);
        await stop.CancelAsync();
        await run;
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
