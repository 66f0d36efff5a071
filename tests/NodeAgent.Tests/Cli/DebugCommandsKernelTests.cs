using System.Diagnostics;
using System.Text.Json;

namespace BranchEni.Agent.Tests.Cli;

/// <summary>
/// The debug commands against real kernel state in throwaway namespaces (root): a node wired as the CNI wires it
/// verifies clean; each deliberately broken piece is named; cleanup removes exactly what has no live owner and a dry
/// run changes nothing. VLAN links are veth stand-ins here; the micro-VM test repeats this with real 802.1Q.
/// </summary>
public sealed class DebugCommandsKernelTests
{
    [Fact]
    public async Task A_node_wired_as_the_cni_wires_it_verifies_clean_and_lists_its_pods()
    {
        using var node = new CliNode();
        var greenNs = node.AddPod("green", 7);
        node.AddPod("blue", 8);

        var verify = await node.RunAsync("verify");
        Assert.True(verify.Code == 0, verify.Out + verify.Err);
        Assert.Contains("verify: OK (2 pods, strict mode from conflist)", verify.Out, StringComparison.Ordinal);

        var table = await node.RunAsync("pods");
        Assert.Equal(0, table.Code);
        var lines = table.Out.Split('\n');
        Assert.StartsWith("POD ", lines[0], StringComparison.Ordinal);
        var green = Assert.Single(lines, l => l.StartsWith("default/green ", StringComparison.Ordinal));
        Assert.Matches($@"^default/green\s+{CliNode.Uid(7)}\s+eni-0f7\s+7\s+{CliNode.Ip4(7)}\s+{CliNode.HostVeth("green")}\s+107\s+strict\s+Allowed\s+ok\s+ok\s+unknown$", green);

        var json = await node.RunAsync("pods", "-o", "json");
        using var doc = JsonDocument.Parse(json.Out);
        Assert.Equal("strict", doc.RootElement.GetProperty("mode").GetString());
        Assert.Equal("conflist", doc.RootElement.GetProperty("modeSource").GetString());
        var row = doc.RootElement.GetProperty("pods").EnumerateArray().Single(p => p.GetProperty("name").GetString() == "green");
        Assert.Equal("ok", row.GetProperty("kernel").GetString());
        Assert.Equal($"/run/netns/{greenNs}", row.GetProperty("podNetns").GetString());
        Assert.Equal("ctr-green", row.GetProperty("containerId").GetString());
        Assert.Equal(107, row.GetProperty("table").GetInt32());
        Assert.Equal(0, row.GetProperty("differences").GetArrayLength());

        var status = await node.RunAsync("status", "--output", "json");
        using var s = JsonDocument.Parse(status.Out);
        Assert.Equal("up", s.RootElement.GetProperty("trunk").GetProperty("state").GetString());
        Assert.Equal("trunk0", s.RootElement.GetProperty("trunk").GetProperty("link").GetString());
        Assert.Equal(new[] { 7, 8 }, s.RootElement.GetProperty("vlansUsed").EnumerateArray().Select(v => v.GetInt32()));
        Assert.False(s.RootElement.GetProperty("agent").GetProperty("reachable").GetBoolean());
        Assert.True(s.RootElement.GetProperty("cni").GetProperty("conflistInstalled").GetBoolean());
    }

    [Fact]
    public async Task Verify_names_every_broken_piece_one_per_line_and_exits_1()
    {
        using var node = new CliNode();
        var greenNs = node.AddPod("green", 7);
        var veth = CliNode.HostVeth("green");
        node.Ip($"-n {node.Node} rule del pref 10 iif {veth} lookup 107");
        node.Ip($"-n {node.Node} link set vlan.eth.7 address 0e:ee:16:bd:41:99");
        node.Ip($"-n {node.Node} route del default table 107");
        node.Ip($"-n {greenNs} neigh del 169.254.1.1 dev eth0");
        CliNode.Sh($"ip netns exec {node.Node} sysctl -qw net.ipv4.conf.{veth}.rp_filter=1");
        node.AddVlanStandIn(9, "ctr-stale");

        var (code, output, _) = await node.RunAsync("verify");

        Assert.Equal(1, code);
        var lines = output.TrimEnd('\n').Split('\n');
        string[] expected =
        [
            $"default/green: rule prio 10 iif {veth} lookup 107 is missing (strict mode)",
            "default/green: vlan.eth.7 has MAC 0e:ee:16:bd:41:99, the record says 0e:ee:16:bd:41:07",
            "default/green: table 107 lacks default via 10.77.0.1 dev vlan.eth.7",
            $"default/green: rp_filter on {veth} is 1 (strict): the pod's packets are dropped; use 0 or 2",
            "node: orphan link vlan.eth.9 (owner ctr-stale): no record has VLAN 9",
            "node: orphan route 10.77.0.1/32 dev vlan.eth.9 table 109: no record has VLAN 9; goes with vlan.eth.9",
        ];
        foreach (var line in expected)
        {
            Assert.Contains(line, lines);
        }

        Assert.Single(lines, l => l.StartsWith("default/green: the pod lacks the permanent neighbour 169.254.1.1", StringComparison.Ordinal));
        Assert.Equal("verify: 8 differences (1 pods, strict mode from conflist)", lines[^1]);

        var one = await node.RunAsync("verify", "default/green", "-o", "json");
        Assert.Equal(1, one.Code);
        using var doc = JsonDocument.Parse(one.Out);
        Assert.Equal("default/green", doc.RootElement.GetProperty("pod").GetString());
        Assert.False(doc.RootElement.GetProperty("ok").GetBoolean());
        var messages = doc.RootElement.GetProperty("differences").EnumerateArray().Select(d => d.GetProperty("message").GetString()).ToList();
        Assert.Equal(5, messages.Count);
        Assert.DoesNotContain(messages, m => m!.Contains("vlan.eth.9", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Cleanup_dry_run_changes_nothing_then_cleanup_removes_only_plumbing_without_a_live_owner()
    {
        using var node = new CliNode();
        node.AddPod("green", 7);
        // A pod whose sandbox died without DEL: its record stays for the cooldown, its namespace (and veth) is gone.
        var deadNs = node.AddPod("dead", 8);
        node.Ip($"netns del {deadNs}");
        // The kernel destroys a namespace (and the veth pair with it) asynchronously.
        for (var i = 0; i < 100 && node.Ip($"-n {node.Node} link show").Contains(CliNode.HostVeth("dead"), StringComparison.Ordinal); i++)
        {
            await Task.Delay(50);
        }

        // VLAN 9: plumbing with no record at all.
        node.AddVlanStandIn(9, "ctr-stale");
        node.Ip($"-n {node.Node} rule add pref 10 iif vlan.eth.9 lookup 109");
        node.Ip($"-n {node.Node} route add 10.77.0.99/32 dev trunk0 table 109");
        // Not ours: a table outside 101..4194 and another priority pointing at 109.
        node.Ip($"-n {node.Node} route add 10.9.0.0/16 dev trunk0 table 50");
        node.Ip($"-n {node.Node} rule add pref 300 iif trunk0 lookup 109");
        var before = node.KernelState();

        var dry = await node.RunAsync("cleanup", "--dry-run");

        Assert.Equal(0, dry.Code);
        Assert.Equal(before, node.KernelState());
        var planned = dry.Out.TrimEnd('\n').Split('\n');
        Assert.Contains("would remove link vlan.eth.9 (owner ctr-stale): no record has VLAN 9", planned);
        Assert.Contains("would remove rule prio 10 iif vlan.eth.9 lookup 109: no record has VLAN 9", planned);
        Assert.Contains("would remove route 10.77.0.99/32 dev trunk0 table 109: no record has VLAN 9", planned);
        Assert.Contains($"would remove link vlan.eth.8 (owner ctr-dead): default/dead (VLAN 8) has no host veth {CliNode.HostVeth("dead")}: its sandbox is gone", planned);
        Assert.Contains("would remove rule prio 10 iif vlan.eth.8 lookup 108: default/dead (VLAN 8) has no host veth " + CliNode.HostVeth("dead") + ": its sandbox is gone", planned);
        Assert.DoesNotContain(planned, l => l.Contains("vlan.eth.7", StringComparison.Ordinal) || l.Contains("table 50", StringComparison.Ordinal)
            || l.Contains("prio 300", StringComparison.Ordinal));
        Assert.EndsWith("objects would be removed (dry run: nothing changed)", planned[^1], StringComparison.Ordinal);

        var verifyBefore = await node.RunAsync("verify");
        Assert.Equal(1, verifyBefore.Code);

        var clean = await node.RunAsync("cleanup", "-o", "json");
        Assert.Equal(0, clean.Code);
        using var doc = JsonDocument.Parse(clean.Out);
        Assert.True(doc.RootElement.GetProperty("ok").GetBoolean());
        Assert.False(doc.RootElement.GetProperty("dryRun").GetBoolean());
        Assert.Equal(planned.Length - 1, doc.RootElement.GetProperty("actions").GetArrayLength());

        var links = node.Ip($"-n {node.Node} link show");
        Assert.DoesNotContain("vlan.eth.9", links, StringComparison.Ordinal);
        Assert.DoesNotContain("vlan.eth.8", links, StringComparison.Ordinal);
        Assert.Contains("vlan.eth.7", links, StringComparison.Ordinal);
        Assert.Empty(node.Ip($"-n {node.Node} route show table 109"));
        Assert.Empty(node.Ip($"-n {node.Node} route show table 108"));
        Assert.Contains("10.9.0.0/16 dev trunk0", node.Ip($"-n {node.Node} route show table 50"), StringComparison.Ordinal);
        var rules = node.Ip($"-n {node.Node} rule show");
        Assert.Contains("300:\tfrom all iif trunk0 lookup 109", rules, StringComparison.Ordinal);
        Assert.DoesNotContain("iif vlan.eth.9", rules, StringComparison.Ordinal);
        Assert.Contains("iif vlan.eth.7 lookup 107", rules, StringComparison.Ordinal);

        // The dead pod's record is the agent's to delete after its cooldown; everything else verifies clean.
        File.Delete(Path.Combine(node.StateDir, "pods", CliNode.Uid(8) + ".json"));
        var after = await node.RunAsync("verify");
        Assert.True(after.Code == 0, after.Out);
        Assert.Equal("cleanup: nothing to remove\n", (await node.RunAsync("cleanup")).Out);
    }

    [Fact]
    public async Task Standard_mode_verifies_its_own_rules_and_cleanup_leaves_a_lone_prio_512_rule_alone()
    {
        using var node = new CliNode("standard");
        node.AddPod("green", 7, mode: "standard");
        // A stale standard pair (VLAN 9, no record) and a lone prio-512 rule of another CNI's pod.
        node.Ip($"-n {node.Node} rule add pref 512 to 10.77.0.99 lookup main");
        node.Ip($"-n {node.Node} rule add pref 1536 from 10.77.0.99 lookup 109");
        node.Ip($"-n {node.Node} rule add pref 512 to 10.1.2.3 lookup main");

        var pods = await node.RunAsync("pods", "-o", "json");
        using (var doc = JsonDocument.Parse(pods.Out))
        {
            Assert.Equal("standard", doc.RootElement.GetProperty("pods")[0].GetProperty("mode").GetString());
            Assert.Equal("ok", doc.RootElement.GetProperty("pods")[0].GetProperty("kernel").GetString());
        }

        var clean = await node.RunAsync("cleanup");
        Assert.Equal(0, clean.Code);
        var rules = node.Ip($"-n {node.Node} rule show");
        Assert.DoesNotContain("10.77.0.99", rules, StringComparison.Ordinal);
        Assert.Contains("512:\tfrom all to 10.1.2.3 lookup main", rules, StringComparison.Ordinal);
        Assert.Contains($"512:\tfrom all to {CliNode.Ip4(7)} lookup main", rules, StringComparison.Ordinal);

        // The pod's rules of the other mode are named as such.
        node.Ip($"-n {node.Node} rule add pref 10 iif vlan.eth.7 lookup 107");
        var (code, output, _) = await node.RunAsync("verify", "green");
        Assert.Equal(1, code);
        Assert.Contains("default/green: rule prio 10 iif vlan.eth.7 lookup 107 belongs to the other mode; the node is standard", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_namespace_both_mounted_and_held_by_a_process_is_one_namespace()
    {
        using var node = new CliNode();
        var podNs = node.AddPod("green", 7);
        // What every real pod looks like: the runtime's bind mount and the pause process name the same namespace.
        using var holder = await HoldAsync(podNs);
        try
        {

            var verify = await node.RunAsync("verify");

            Assert.True(verify.Code == 0, verify.Out + verify.Err);
            Assert.DoesNotContain("could hold the peer", verify.Out, StringComparison.Ordinal);
        }
        finally
        {
            holder.Kill();
            await holder.WaitForExitAsync();
        }
    }

    [Fact]
    public async Task The_pods_namespace_is_found_through_its_process_when_no_bind_mount_names_it()
    {
        using var node = new CliNode();
        var podNs = node.AddPod("green", 7);
        // The sandbox's namespace held only by a process (the pause container), as when the runtime keeps no mount.
        using var holder = await HoldAsync(podNs);
        try
        {

            node.Ip($"netns del {podNs}");

            var (code, output, _) = await node.RunAsync("pods", "-o", "json");

            Assert.Equal(0, code);
            using var doc = JsonDocument.Parse(output);
            var row = doc.RootElement.GetProperty("pods")[0];
            Assert.Equal($"/proc/{holder.Id}/ns/net", row.GetProperty("podNetns").GetString());
            Assert.Equal("ok", row.GetProperty("kernel").GetString());
        }
        finally
        {
            holder.Kill();
            await holder.WaitForExitAsync();
        }
    }

    [Fact]
    public async Task Two_nodes_wired_alike_each_find_their_own_pods_namespace()
    {
        // Same steps in two fresh node namespaces give the same interface indexes, so the index pair alone cannot
        // tell the two "green" namespaces apart (nor can the address): the peer's namespace id must.
        using var first = new CliNode();
        using var second = new CliNode();
        var firstPod = first.AddPod("green", 7);
        var secondPod = second.AddPod("green", 7);

        foreach (var (node, pod) in new[] { (first, firstPod), (second, secondPod) })
        {
            var (code, output, _) = await node.RunAsync("pods", "-o", "json");
            Assert.Equal(0, code);
            using var doc = JsonDocument.Parse(output);
            Assert.Equal($"/run/netns/{pod}", doc.RootElement.GetProperty("pods")[0].GetProperty("podNetns").GetString());
            Assert.Equal("ok", doc.RootElement.GetProperty("pods")[0].GetProperty("kernel").GetString());
        }
    }

    /// <summary>A process inside the pod's namespace (the pause container's part), started and moved in.</summary>
    private static async Task<Process> HoldAsync(string podNs)
    {
        var holder = Process.Start(new ProcessStartInfo("ip", $"netns exec {podNs} sleep 120") { RedirectStandardOutput = true })!;
        var ours = new FileInfo("/proc/self/ns/net").LinkTarget;
        for (var i = 0; i < 100 && new FileInfo($"/proc/{holder.Id}/ns/net").LinkTarget == ours; i++)
        {
            await Task.Delay(20);
        }

        return holder;
    }
}
