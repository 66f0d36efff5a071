using BranchEni.Testing;

namespace BranchEni.Cni.Tests.MicroVm;

/// <summary>
/// Metadata access on the whole branch path with real 802.1Q in the micro-VM, through the published binary: in both
/// modes a Denied pod gets no answer from 169.254.169.254 even though the node's main table reaches one; Allowed and
/// a record without the field reach the VPC's answer through the VLAN; CHECK notices the deny route removed or added
/// behind its back; DEL (also after the VLAN link vanished) leaves the node as it was. One boot (metadata-path.sh).
/// </summary>
public sealed class MetadataPathMicroVmTests
{
    [Fact]
    public async Task DeniedPodsGetNoMetadataAllowedPodsReachTheVpcsAndDelLeavesNothing()
    {
        var binary = RepoPaths.RequireCniBinary();
        var script = await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "tests", "CniPlugin.Tests", "MicroVm", "metadata-path.sh"));
        var result = await BranchEni.Testing.MicroVm.RunAsync(new MicroVmJob($"export BIN={binary}\n{script}")
        {
            Timeout = TimeSpan.FromSeconds(600),
        });

        result.EnsureSuccess();
        foreach (var mode in new[] { "strict", "standard" })
        {
            Assert.Contains($"PASS: {mode} Denied: unreachable route in table 107, no metadata", result.Stdout, StringComparison.Ordinal);
            foreach (var access in new[] { "Denied", "Allowed", "absent" })
            {
                Assert.Contains($"PASS: {mode} {access}: CHECK notices the deny route changed behind its back", result.Stdout, StringComparison.Ordinal);
                Assert.Contains($"PASS: {mode} {access}: DEL leaves nothing", result.Stdout, StringComparison.Ordinal);
            }

            foreach (var access in new[] { "Allowed", "absent" })
            {
                Assert.Contains($"PASS: {mode} {access}: no deny route, the pod fetches the VPC's instance id through VLAN 7", result.Stdout, StringComparison.Ordinal);
            }
        }

        Assert.Contains("PASS: DEL with the vlan link gone removes the deny route", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("ALL-DONE", result.Stdout, StringComparison.Ordinal);
    }
}
