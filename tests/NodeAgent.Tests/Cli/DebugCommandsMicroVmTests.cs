using BranchEni.Testing;

namespace BranchEni.Agent.Tests.Cli;

/// <summary>
/// The debug commands with real 802.1Q in the micro-VM, on plumbing the real CNI binary builds: verify clean, then a
/// deliberately broken node (rule, MAC, route, dead sandbox, orphan VLAN) that verify must name and cleanup fix.
/// One boot carries every check (see cli-vm.sh).
/// </summary>
public sealed class DebugCommandsMicroVmTests
{
    [Fact]
    public async Task Verify_names_a_broken_node_and_cleanup_leaves_it_verifying_clean_with_real_vlans()
    {
        var cni = RepoPaths.RequireCniBinary();
        // BRANCH_ENI_TEST_AGENT_BINARY: the native-AOT publish (fast under the VM's TCG); else this build's apphost.
        var agent = Environment.GetEnvironmentVariable("BRANCH_ENI_TEST_AGENT_BINARY") is { Length: > 0 } b
            ? b
            : Path.Combine(AppContext.BaseDirectory, "branch-eni-agent");
        var script = await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "tests", "NodeAgent.Tests", "Cli", "cli-vm.sh"));
        var result = await MicroVm.RunAsync(new MicroVmJob($"export BIN={cni} AGENT={agent}\n{script}")
        {
            Timeout = TimeSpan.FromSeconds(600),
            KeepOutputs = ["pods.txt"],
        });

        result.EnsureSuccess();
        foreach (var pass in new[]
                 {
                     "verify passes on plumbing built by the real CNI",
                     "pods and status show both pods, their namespaces and the trunk",
                     "verify names each broken piece and exits 1",
                     "cleanup --dry-run prints the orphans and changes nothing",
                     "cleanup removes exactly the orphans",
                     "after cleanup and repair the node verifies clean",
                 })
        {
            Assert.Contains($"PASS: {pass}", result.Stdout, StringComparison.Ordinal);
        }

        Assert.Contains("ALL-DONE", result.Stdout, StringComparison.Ordinal);
        Assert.Matches(@"default/green\s+0f1e2d3c-aaaa-bbbb-cccc-000000000007\s+eni-0f7\s+7\s+10\.77\.0\.20\s+vlan[0-9a-f]{11}\s+107\s+strict\s+Allowed\s+ok\s+ok\s+unknown",
            result.Outputs["pods.txt"]);
    }
}
