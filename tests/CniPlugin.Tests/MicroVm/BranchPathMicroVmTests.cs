using BranchEni.Testing;

namespace BranchEni.Cni.Tests.MicroVm;

/// <summary>
/// The whole branch path with real 802.1Q in the micro-VM, driven through the published native binary: a simulated
/// VPC of namespaces, every spec version in both enforcing modes, a delegated pod beside a branch pod, the VLAN
/// vanishing before DEL, 20 parallel ADDs/DELs, GC, and libcni driving it. One boot carries every check (see branch-path.sh).
/// </summary>
public sealed class BranchPathMicroVmTests
{
    [Fact]
    public async Task BranchPodsReachTheVpcTaggedAndEverySpecVersionAddsChecksAndDeletesCleanly()
    {
        var binary = RepoPaths.RequireCniBinary();
        var script = await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "tests", "CniPlugin.Tests", "MicroVm", "branch-path.sh"));
        var driver = LibcniDriver.Build();
        var result = await BranchEni.Testing.MicroVm.RunAsync(new MicroVmJob($"export BIN={binary} LIBCNI={driver}\n{script}")
        {
            Timeout = TimeSpan.FromSeconds(600),
        });

        result.EnsureSuccess();
        foreach (var mode in new[] { "strict", "standard" })
        {
            foreach (var version in new[] { "0.3.1", "0.4.0", "1.0.0", "1.1.0" })
            {
                Assert.Contains($"PASS: {mode} {version} add check traffic tagged del del", result.Stdout, StringComparison.Ordinal);
            }
        }

        Assert.Contains("PASS: delegated pod reaches the network but not the VLAN-only service", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("PASS: DEL with the vlan link gone", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("PASS: 20 parallel ADDs then DELs leave nothing", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("PASS: GC removes exactly the containers outside the valid set", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("PASS: libcni add check del del", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("ALL-DONE", result.Stdout, StringComparison.Ordinal);
    }
}
