using System.Text.Json;
using BranchEni.Testing;

namespace BranchEni.Netlink.Tests.Vm;

/// <summary>
/// 802.1Q through the library in the micro-VM (this host kernel has no 8021q): the VmDriver performs the calls and
/// prints JSON, and `ip -d -j` inside the same VM is the cross-check. One boot covers every VLAN check.
/// </summary>
public sealed class VlanInVmTests
{
    private static readonly string[] Outputs =
    [
        "refuse.json", "refuse.strace", "create.json", "host-links.json", "pod-links.json", "pod-routes.json",
        "pod-rules.json", "delete.json", "pod-after.json", "host-after.json", "trunk-index",
    ];

    [Fact]
    public async Task Vlan_links_are_created_into_a_namespace_renamed_aliased_and_deleted_and_bad_ids_never_reach_the_kernel()
    {
        var driver = DriverPath();
        Assert.True(File.Exists(driver), $"the VM driver is not built at {driver}");
        var script = $"""
            set -euo pipefail
            export HOME=/tmp DOTNET_CLI_HOME=/tmp DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
            driver() {'{'} dotnet exec '{driver}' "$@"; {'}'}
            ip link add trunk0 type dummy
            ip link set trunk0 up
            ip netns add pod
            cat /sys/class/net/trunk0/ifindex > trunk-index
            strace -f --seccomp-bpf -e trace=sendto,sendmsg -o refuse.strace dotnet exec '{driver}' refuse "$(cat trunk-index)" > refuse.json
            driver create trunk0 /run/netns/pod > create.json
            ip -d -j link show > host-links.json
            ip -n pod -d -j link show > pod-links.json
            ip -n pod -j route show table 107 > pod-routes.json
            ip -n pod -j rule show > pod-rules.json
            driver delete /run/netns/pod > delete.json
            ip -n pod -d -j link show > pod-after.json
            ip -d -j link show > host-after.json
            """;
        var result = (await MicroVm.RunAsync(new MicroVmJob(script) { KeepOutputs = Outputs, Timeout = TimeSpan.FromSeconds(400) }))
            .EnsureSuccess();
        var trunkIndex = int.Parse(result.Outputs["trunk-index"].Trim(), System.Globalization.CultureInfo.InvariantCulture);

        // Refused by us: an ArgumentOutOfRangeException each, and strace saw no RTM_NEWLINK leave the process.
        using var refuse = JsonDocument.Parse(result.Outputs["refuse.json"]);
        Assert.StartsWith("refused", refuse.RootElement.GetProperty("vlan0").GetString(), StringComparison.Ordinal);
        Assert.StartsWith("refused", refuse.RootElement.GetProperty("vlan4095").GetString(), StringComparison.Ordinal);
        Assert.Contains("+++ exited with 0 +++", result.Outputs["refuse.strace"], StringComparison.Ordinal);
        // strace does not know the socket is netlink here, so it prints the type in hex: 0x10 RTM_NEWLINK, 0x12 RTM_GETLINK.
        var trace = result.Outputs["refuse.strace"];
        Assert.DoesNotContain("nlmsg_type=0x10", trace, StringComparison.Ordinal);
        Assert.DoesNotContain("RTM_NEWLINK", trace, StringComparison.Ordinal);
        Assert.True(trace.Contains("nlmsg_type=0x12", StringComparison.Ordinal) || trace.Contains("RTM_GETLINK", StringComparison.Ordinal), trace);
        Assert.Equal("trunk0", refuse.RootElement.GetProperty("parent").GetString());

        // What the library reported inside the namespace.
        using var create = JsonDocument.Parse(result.Outputs["create.json"]);
        var c = create.RootElement;
        Assert.False(c.GetProperty("hostSeesTemporary").GetBoolean());
        var inside = c.GetProperty("inside");
        Assert.Equal("vlan.eth.7", inside.GetProperty("name").GetString());
        Assert.Equal("vlan", inside.GetProperty("kind").GetString());
        Assert.Equal(7, inside.GetProperty("vlanId").GetInt32());
        Assert.Equal("02EE16BD4131", inside.GetProperty("mac").GetString());
        Assert.Equal(1400, inside.GetProperty("mtu").GetInt32());
        Assert.True(inside.GetProperty("up").GetBoolean());
        Assert.Equal("owner:container-c0ffee", inside.GetProperty("alias").GetString());
        Assert.Equal("2", c.GetProperty("rpFilter").GetString());
        Assert.Equal(2, c.GetProperty("routesInTable107").GetInt32());
        Assert.Equal(8, c.GetProperty("hostListed").GetProperty("vlanId").GetInt32());
        Assert.Equal(trunkIndex, c.GetProperty("hostListed").GetProperty("parentIndex").GetInt32());
        Assert.StartsWith("errno 17: ip link add link", c.GetProperty("duplicate").GetString(), StringComparison.Ordinal);

        // What the kernel shows through iproute2.
        var pod = Links(result.Outputs["pod-links.json"]).Single(l => l.GetProperty("ifname").GetString() == "vlan.eth.7");
        Assert.Equal("vlan", pod.GetProperty("linkinfo").GetProperty("info_kind").GetString());
        Assert.Equal(7, pod.GetProperty("linkinfo").GetProperty("info_data").GetProperty("id").GetInt32());
        Assert.Equal("802.1Q", pod.GetProperty("linkinfo").GetProperty("info_data").GetProperty("protocol").GetString());
        Assert.Equal("02:ee:16:bd:41:31", pod.GetProperty("address").GetString());
        Assert.Equal(1400, pod.GetProperty("mtu").GetInt32());
        Assert.Equal("owner:container-c0ffee", pod.GetProperty("ifalias").GetString());
        Assert.Contains("UP", pod.GetProperty("flags").EnumerateArray().Select(f => f.GetString()));
        var host = Links(result.Outputs["host-links.json"]);
        Assert.DoesNotContain(host, l => l.GetProperty("ifname").GetString() is "vlan.eth.7" or "vlan.tmp7");
        var hostVlan = host.Single(l => l.GetProperty("ifname").GetString() == "vlan.eth.8");
        Assert.Equal(8, hostVlan.GetProperty("linkinfo").GetProperty("info_data").GetProperty("id").GetInt32());
        Assert.Equal("trunk0", hostVlan.GetProperty("link").GetString());
        Assert.Equal(2, Links(result.Outputs["pod-routes.json"]).Length);
        Assert.Contains(Links(result.Outputs["pod-rules.json"]), r => r.GetProperty("priority").GetInt32() == 10
            && r.GetProperty("iif").GetString() == "vlan.eth.7" && r.GetProperty("table").GetString() == "107");

        // Deletion, and the idempotent verbs after it.
        using var delete = JsonDocument.Parse(result.Outputs["delete.json"]);
        Assert.False(delete.RootElement.GetProperty("deleteAgain").GetBoolean());
        Assert.StartsWith("errno 19:", delete.RootElement.GetProperty("getAfterDelete").GetString(), StringComparison.Ordinal);
        Assert.True(delete.RootElement.GetProperty("hostDelete").GetBoolean());
        Assert.DoesNotContain(Links(result.Outputs["pod-after.json"]), l => l.GetProperty("ifname").GetString() == "vlan.eth.7");
        Assert.DoesNotContain(Links(result.Outputs["host-after.json"]), l => l.GetProperty("ifname").GetString() == "vlan.eth.8");
    }

    private static JsonElement[] Links(string json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return [];
        }

        using var document = JsonDocument.Parse(json);
        return document.RootElement.EnumerateArray().Select(e => e.Clone()).ToArray();
    }

    /// <summary>The driver is built beside the tests in the same configuration (VmDriver/bin/CONFIG/net10.0).</summary>
    private static string DriverPath()
    {
        var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
        var framework = testOutput.Name;
        var configuration = testOutput.Parent!.Name;
        return Path.Combine(RepoPaths.Root, "tests", "Netlink.Tests", "VmDriver", "bin", configuration, framework,
            "BranchEni.Netlink.VmDriver.dll");
    }
}
