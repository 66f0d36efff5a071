using System.Diagnostics;
using BranchEni.Agent.Configuration;
using BranchEni.Agent.Node;
using BranchEni.Contracts;

namespace BranchEni.Agent.Tests.Node;

/// <summary>The node's kernel work in a throwaway network namespace (root; `ip` only sets the scene and reads back).</summary>
public sealed class NodePreparerTests
{
    [Fact]
    public async Task Finds_the_trunk_by_mac_brings_it_up_and_sets_the_node_sysctls_and_the_strict_local_rule()
    {
        var ns = "be-agent-" + Guid.NewGuid().ToString("N")[..8];
        Ip($"netns add {ns}");
        try
        {
            // "eth0" plays the primary ENI, "eth1" the trunk (veth pairs: this kernel has no dummy links).
            Ip($"-n {ns} link add eth0 address 0a:00:00:00:00:01 type veth peer name p0");
            Ip($"-n {ns} link add eth1 address 0a:00:00:00:00:02 type veth peer name p1");
            var preparer = new NodePreparer($"/run/netns/{ns}", Serilog.Core.Logger.None);

            var link = await preparer.BringUpTrunkAsync("0a:00:00:00:00:02", TimeSpan.FromSeconds(2), CancellationToken.None);
            preparer.PrepareNode("0a:00:00:00:00:01", EnforcingMode.Strict, disableTcpEarlyDemux: true);
            preparer.PrepareNode("0a:00:00:00:00:01", EnforcingMode.Strict, disableTcpEarlyDemux: true);

            Assert.Equal("eth1", link);
            Assert.Matches("<[A-Z,_-]*,UP[,>]", Ip($"-n {ns} link show eth1"));
            Assert.DoesNotContain("inet ", Ip($"-n {ns} addr show eth1"), StringComparison.Ordinal);
            Assert.Equal("2", Run("ip", $"netns exec {ns} cat /proc/sys/net/ipv4/conf/eth0/rp_filter").Trim());
            Assert.Equal("0", Run("ip", $"netns exec {ns} cat /proc/sys/net/ipv4/tcp_early_demux").Trim());
            var rules = Ip($"-n {ns} rule show");
            Assert.Contains("20:\tfrom all lookup local", rules, StringComparison.Ordinal);
            Assert.DoesNotContain("0:\tfrom all lookup local", rules.Replace("20:\tfrom all lookup local", "", StringComparison.Ordinal), StringComparison.Ordinal);
            Assert.Single(rules.Split('\n'), l => l.Contains("lookup local", StringComparison.Ordinal));
        }
        finally
        {
            Ip($"netns del {ns}");
        }
    }

    [Fact]
    public async Task A_trunk_link_that_never_appears_is_a_clear_error()
    {
        var ns = "be-agent-" + Guid.NewGuid().ToString("N")[..8];
        Ip($"netns add {ns}");
        try
        {
            var preparer = new NodePreparer($"/run/netns/{ns}", Serilog.Core.Logger.None);
            var e = await Assert.ThrowsAsync<NodePreparationException>(() => preparer.BringUpTrunkAsync("0a:00:00:00:00:09", TimeSpan.FromMilliseconds(300), CancellationToken.None));
            Assert.Contains("0a:00:00:00:00:09", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            Ip($"netns del {ns}");
        }
    }

    private static string Ip(string args) => Run("ip", args);

    private static string Run(string file, string args)
    {
        using var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = p.StandardOutput.ReadToEnd();
        var error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return p.ExitCode == 0 ? output : throw new InvalidOperationException($"{file} {args}: {error}");
    }
}
