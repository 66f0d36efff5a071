using BranchEni.Testing;

namespace BranchEni.Sandbox.Tests.Fabric;

/// <summary>
/// The fabric answers 169.254.169.254 as the VPC does, in the micro-VM (real 802.1Q): the node's ENI and an Allowed
/// branch pod (wired by the real CNI binary on a branch made through the EC2 API) fetch the node's instance id with
/// IMDSv2; a Denied pod gets nothing. One boot (fabric-imds.sh).
/// </summary>
public sealed class FabricImdsMicroVmTests
{
    [Fact]
    public async Task TheNodeAndAnAllowedBranchPodReachTheFabricsImdsAndADeniedPodDoesNot()
    {
        var cni = RepoPaths.RequireCniBinary();
        var sandbox = Path.Combine(AppContext.BaseDirectory, "branch-eni-sandbox");
        Assert.True(File.Exists(sandbox), $"{sandbox} missing");
        var seed = Path.Combine(RepoPaths.Root, "tools", "demo", "seed.json");
        var script = await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "tests", "Sandbox.Tests", "Fabric", "fabric-imds.sh"));
        var result = await MicroVm.RunAsync(new MicroVmJob($"export BIN={cni} SANDBOX={sandbox} SEED={seed}\n{script}")
        {
            Timeout = TimeSpan.FromSeconds(600),
        });

        result.EnsureSuccess();
        Assert.Contains("PASS: the node's ENI fetches its instance id from 169.254.169.254 through the VPC (IMDSv2)", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("PASS: an Allowed branch pod fetches its node's instance id through the VPC (VLAN 7)", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("PASS: a Denied branch pod gets nothing from 169.254.169.254", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("ALL-DONE", result.Stdout, StringComparison.Ordinal);
    }
}
