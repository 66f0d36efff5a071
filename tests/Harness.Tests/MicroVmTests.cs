using System.Text;
using System.Text.Json;

namespace BranchEni.Testing.Tests;

/// <summary>The micro-VM is the only place 802.1Q exists for our tests; these prove the facility itself.</summary>
public sealed class MicroVmTests
{
    [Fact]
    public async Task VlanLinkCreatedInTheVmIsReportedByTheKernelAs8021QWithItsId()
    {
        var result = (await MicroVm.RunAsync("""
            set -euo pipefail
            ip link add trunk0 type veth peer name trunk1
            ip link add link trunk0 name vlan.eth.42 type vlan id 42
            ip -d -j link show vlan.eth.42
            """)).EnsureSuccess();

        using var doc = JsonDocument.Parse(result.Stdout);
        var link = doc.RootElement[0];
        Assert.Equal("vlan.eth.42", link.GetProperty("ifname").GetString());
        Assert.Equal("trunk0", link.GetProperty("link").GetString());
        var info = link.GetProperty("linkinfo");
        Assert.Equal("vlan", info.GetProperty("info_kind").GetString());
        Assert.Equal("802.1Q", info.GetProperty("info_data").GetProperty("protocol").GetString());
        Assert.Equal(42, info.GetProperty("info_data").GetProperty("id").GetInt32());
    }

    [Fact]
    public async Task TheKernelBootsThroughQemusPvhEntry()
    {
        // The PVH entry fills in boot protocol 2.12 itself (arch/x86/platform/pvh/enlighten.c), while a bzImage booted
        // by qemu reports its own header's version (2.15 for Debian's 6.1). Booting the kit's ELF image through PVH
        // skips the bzImage's setup and self-decompression: about half of each boot under TCG (issue 16).
        var result = (await MicroVm.RunAsync("cat /sys/kernel/boot_params/version")).EnsureSuccess();

        Assert.Equal("0x020c\n", result.Stdout);
    }

    [Fact]
    public async Task JobSeesInputFilesAndItsExitStatusAndOutputsComeBack()
    {
        var job = new MicroVmJob("""
            cat input.txt
            echo "to stderr" >&2
            tr a-z A-Z < input.txt > output.txt
            exit 7
            """)
        {
            Files = new Dictionary<string, byte[]> { ["input.txt"] = Encoding.UTF8.GetBytes("hello from the host\n") },
            KeepOutputs = ["output.txt"],
        };

        var result = await MicroVm.RunAsync(job);

        Assert.Equal(7, result.ExitCode);
        Assert.Equal("hello from the host\n", result.Stdout);
        Assert.Equal("to stderr\n", result.Stderr);
        Assert.Equal("HELLO FROM THE HOST\n", result.Outputs["output.txt"]);
        var failure = Assert.Throws<MicroVmException>(() => result.EnsureSuccess());
        Assert.Contains("exited 7", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheCheckoutIsVisibleAtItsOwnPathEvenWhenItLivesUnderTmp()
    {
        // The guest's /tmp is a fresh tmpfs; run.sh shares a checkout living there again at its path.
        var result = (await MicroVm.RunAsync($"test -f '{RepoPaths.Root}/Cni.sln' && echo visible; touch /tmp/scratch && echo tmp-writable")).EnsureSuccess();

        Assert.Equal("visible\ntmp-writable\n", result.Stdout);
    }

    [Fact]
    public async Task JobThatOverrunsItsTimeoutFailsLoudlyWithTheConsoleLog()
    {
        var job = new MicroVmJob("sleep 600") { Timeout = TimeSpan.FromSeconds(30) };

        var failure = await Assert.ThrowsAsync<MicroVmException>(() => MicroVm.RunAsync(job));

        Assert.Contains("gave no result", failure.Message, StringComparison.Ordinal);
        // The console shows how far the VM got: it booted and started the job before being stopped.
        Assert.Contains("microvm: running job", failure.ConsoleLog, StringComparison.Ordinal);
    }
}
