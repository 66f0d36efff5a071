using System.Text.Json;

namespace BranchEni.Agent.Tests.Cli;

/// <summary>
/// Metadata access in the debug commands: `pods` shows each record's decision, `verify` checks table 100+N has the
/// `unreachable 169.254.169.254/32` route exactly when the record says Denied, and `cleanup` removes a dead pod's
/// deny route, which (having no device) outlives its VLAN link.
/// </summary>
public sealed class DebugCommandsMetadataTests
{
    [Fact]
    public async Task Pods_shows_each_records_metadata_access_and_an_absent_field_as_allowed()
    {
        using var node = new CliNode();
        node.AddPod("green", 7, metadataAccess: "Denied");
        node.AddPod("blue", 8, metadataAccess: "Allowed");
        node.AddPod("old", 9);

        var verify = await node.RunAsync("verify");
        Assert.True(verify.Code == 0, verify.Out);

        var table = await node.RunAsync("pods");
        Assert.StartsWith("POD ", table.Out, StringComparison.Ordinal);
        Assert.Contains(" METADATA ", table.Out.Split('\n')[0], StringComparison.Ordinal);
        Assert.Matches(@"(?m)^default/green\s.*\s107\s+strict\s+Denied\s+ok\s+ok\s", table.Out);
        Assert.Matches(@"(?m)^default/blue\s.*\s108\s+strict\s+Allowed\s+ok\s+ok\s", table.Out);
        Assert.Matches(@"(?m)^default/old\s.*\s109\s+strict\s+Allowed\s+ok\s+ok\s", table.Out);

        var json = await node.RunAsync("pods", "-o", "json");
        using var doc = JsonDocument.Parse(json.Out);
        var green = doc.RootElement.GetProperty("pods").EnumerateArray().Single(p => p.GetProperty("name").GetString() == "green");
        Assert.Equal("Denied", green.GetProperty("metadataAccess").GetString());

        var one = await node.RunAsync("verify", "default/green");
        Assert.Equal(0, one.Code);
        Assert.Contains("default/green: metadata access Denied (record)", one.Out, StringComparison.Ordinal);
        var oneJson = await node.RunAsync("verify", "default/green", "-o", "json");
        using var oneDoc = JsonDocument.Parse(oneJson.Out);
        Assert.Equal("Denied", oneDoc.RootElement.GetProperty("metadataAccess").GetString());
    }

    [Fact]
    public async Task Verify_names_a_missing_or_unwanted_deny_route()
    {
        using var node = new CliNode();
        node.AddPod("green", 7, metadataAccess: "Denied");
        node.AddPod("blue", 8, metadataAccess: "Allowed");
        node.Ip($"-n {node.Node} route del unreachable 169.254.169.254/32 table 107");
        node.Ip($"-n {node.Node} route add unreachable 169.254.169.254/32 table 108");

        var (code, output, _) = await node.RunAsync("verify");

        Assert.Equal(1, code);
        var lines = output.TrimEnd('\n').Split('\n');
        Assert.Contains("default/green: table 107 lacks unreachable 169.254.169.254/32: the pod's metadata access is Denied", lines);
        Assert.Contains("default/blue: table 108 has unreachable 169.254.169.254/32: the pod's metadata access is Allowed", lines);
        Assert.Equal("verify: 2 differences (2 pods, strict mode from conflist)", lines[^1]);
    }

    [Fact]
    public async Task A_record_with_an_unknown_metadata_access_is_reported_invalid()
    {
        using var node = new CliNode();
        node.AddPod("green", 7);
        node.WriteRecord("green", 7, metadataAccess: "denied");

        var (code, output, _) = await node.RunAsync("verify", "green");

        Assert.Equal(1, code);
        Assert.Contains("metadataAccess 'denied' is neither \"Allowed\" nor \"Denied\"", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cleanup_removes_the_deny_route_a_dead_pod_left_after_its_vlan_link_went()
    {
        using var node = new CliNode();
        node.AddPod("green", 7, metadataAccess: "Denied");
        var deadNs = node.AddPod("dead", 8, metadataAccess: "Denied");
        node.Ip($"netns del {deadNs}");
        node.Ip($"-n {node.Node} link del vlan.eth.8");
        for (var i = 0; i < 100 && node.Ip($"-n {node.Node} link show").Contains(CliNode.HostVeth("dead"), StringComparison.Ordinal); i++)
        {
            await Task.Delay(50);
        }

        var dry = await node.RunAsync("cleanup", "--dry-run");
        Assert.Contains("would remove route unreachable 169.254.169.254/32 table 108: default/dead (VLAN 8) has no host veth "
            + CliNode.HostVeth("dead") + ": its sandbox is gone", dry.Out.Split('\n'));
        Assert.DoesNotContain("table 107", dry.Out, StringComparison.Ordinal);

        var clean = await node.RunAsync("cleanup");
        Assert.Equal(0, clean.Code);
        Assert.Empty(node.Ip($"-n {node.Node} route show table 108"));
        Assert.Contains("unreachable 169.254.169.254", node.Ip($"-n {node.Node} route show table 107"), StringComparison.Ordinal);
    }
}
