using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using BranchEni.Agent.Observability;

namespace BranchEni.Agent.Tests.Cli;

/// <summary>
/// The built `branch-eni-agent` executable (exit codes as documented in docs/cli.md, help) and the optional reads:
/// the agent's real health server answering, records that do not parse.
/// </summary>
public sealed class DebugCommandsProcessTests
{
    private static string Binary => Environment.GetEnvironmentVariable("BRANCH_ENI_TEST_AGENT_BINARY") is { Length: > 0 } b
        ? b
        : Path.Combine(AppContext.BaseDirectory, "branch-eni-agent");

    [Fact]
    public async Task The_executable_documents_its_exit_codes_by_behaviour()
    {
        using var node = new CliNode();
        var common = $"--netns /run/netns/{node.Node} --state-dir {node.StateDir} --cni-conf-dir {node.ConfDir} --cni-bin-dir {node.BinDir} --health-address 127.0.0.1:1";

        var help = await RunAsync("--help");
        Assert.Equal(0, help.Code);
        foreach (var command in new[] { "run", "status", "pods", "verify", "cleanup" })
        {
            Assert.Contains($"  {command} ", help.Out, StringComparison.Ordinal);
        }

        Assert.Equal(0, (await RunAsync($"verify {common}")).Code);
        Assert.Equal(2, (await RunAsync($"verify -o yaml {common}")).Code);
        Assert.Equal(2, (await RunAsync($"cleanup --no-such-flag {common}")).Code);
        var unknown = await RunAsync($"verify default/nobody {common}");
        Assert.Equal(2, unknown.Code);
        Assert.Contains("no pod record matches 'default/nobody'", unknown.Err, StringComparison.Ordinal);
        var noNode = await RunAsync($"status --netns /run/netns/be-missing-{node.Suffix} --state-dir {node.StateDir}");
        Assert.Equal(3, noNode.Code);
        Assert.Contains("cannot inspect the node", noNode.Err, StringComparison.Ordinal);

        // A record that does not parse: verify names it (1); cleanup refuses (3), since its VLAN would look orphaned.
        File.WriteAllText(Path.Combine(node.StateDir, "pods", CliNode.Uid(5) + ".json"), "{\"vlanId\": 5");
        var verify = await RunAsync($"verify {common}");
        Assert.Equal(1, verify.Code);
        Assert.Contains($"{CliNode.Uid(5)}: record {CliNode.Uid(5)}.json is unusable", verify.Out, StringComparison.Ordinal);
        var before = node.KernelState();
        var cleanup = await RunAsync($"cleanup {common}");
        Assert.Equal(3, cleanup.Code);
        Assert.Contains("refusing", cleanup.Err, StringComparison.Ordinal);
        Assert.Equal(before, node.KernelState());
    }

    [Fact]
    public async Task Status_reports_the_agents_health_and_capacity_when_its_endpoint_answers()
    {
        using var node = new CliNode();
        node.AddPod("green", 7);
        var port = FreePort();
        var metrics = new AgentMetrics { BranchesInUse = () => 1, FreeVlans = () => 8 };
        using var server = new HealthServer(new IPEndPoint(IPAddress.Loopback, port), metrics, () => true, () => "informers not synced", Serilog.Core.Logger.None);
        server.Start();
        using var stop = new CancellationTokenSource();
        var serving = server.RunAsync(stop.Token);

        var (code, output, _) = await RunAsync($"status -o json --netns /run/netns/{node.Node} --state-dir {node.StateDir} --cni-conf-dir {node.ConfDir} --cni-bin-dir {node.BinDir} --health-address 127.0.0.1:{port}");
        await stop.CancelAsync();
        await serving;

        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(output);
        var agent = doc.RootElement.GetProperty("agent");
        Assert.True(agent.GetProperty("reachable").GetBoolean());
        Assert.Equal("ok", agent.GetProperty("healthz").GetString());
        Assert.Equal("503 informers not synced", agent.GetProperty("readyz").GetString());
        Assert.Equal(9, doc.RootElement.GetProperty("capacity").GetInt32());
        Assert.Equal("agent", doc.RootElement.GetProperty("capacitySource").GetString());
        Assert.Equal(8, doc.RootElement.GetProperty("vlansFree").GetInt32());
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<(int Code, string Out, string Err)> RunAsync(string args)
    {
        var psi = new ProcessStartInfo(Binary, args) { RedirectStandardOutput = true, RedirectStandardError = true };
        // The commands must not depend on the caller's Kubernetes setup.
        psi.Environment.Remove("KUBECONFIG");
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        return (p.ExitCode, await output, await error);
    }
}
