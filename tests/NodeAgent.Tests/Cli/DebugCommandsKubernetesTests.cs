using System.Text.Json;
using BranchEni.Agent.Tests.Sandbox;

namespace BranchEni.Agent.Tests.Cli;

/// <summary>
/// The optional API reads, through the real Kubernetes client against the sandbox's API server: `pods` compares each
/// record with its pod's annotation, `status` reads the node's capacity; an unreachable API server is "unknown".
/// </summary>
public sealed class DebugCommandsKubernetesTests
{
    [Fact]
    public async Task Pods_compares_records_with_annotations_and_status_reads_the_nodes_capacity()
    {
        await using var world = await SandboxWorld.StartAsync();
        using var kube = new KubeTestClient(world.Host.Endpoints.Kubernetes);
        using var node = new CliNode();
        node.AddPod("green", 7, record: false);
        node.AddPod("blue", 8, record: false);
        var green = await kube.CreatePodAsync("default", "green", "node-1", annotation: CliNode.Annotation(7));
        var blue = await kube.CreatePodAsync("default", "blue", "node-1", annotation: CliNode.Annotation(8, eniId: "eni-0fff"));
        node.WriteRecord("green", 7, green["metadata"]!["uid"]!.GetValue<string>());
        node.WriteRecord("blue", 8, blue["metadata"]!["uid"]!.GetValue<string>());
        node.WriteRecord("gone", 9);
        await kube.PatchNodeStatusAsync("node-1", """{"status":{"capacity":{"vpc.amazonaws.com/pod-eni":"9"}}}""");

        var pods = await node.RunAsync("pods", "-o", "json", "--kubeconfig", world.KubeconfigPath);
        using (var doc = JsonDocument.Parse(pods.Out))
        {
            var annotation = doc.RootElement.GetProperty("pods").EnumerateArray()
                .ToDictionary(p => p.GetProperty("name").GetString()!, p => p.GetProperty("annotation").GetString());
            Assert.Equal("agrees", annotation["green"]);
            Assert.Equal($"differs: annotation has eni-0fff vlan 8 {CliNode.Ip4(8)} {CliNode.Mac(8)}", annotation["blue"]);
            Assert.Equal("absent", annotation["gone"]);
        }

        var table = await node.RunAsync("pods", "--kubeconfig", world.KubeconfigPath);
        Assert.Matches(@"\ndefault/blue\s.*\sok\s+ok\s+differs\n", table.Out);

        var status = await node.RunAsync("status", "-o", "json", "--kubeconfig", world.KubeconfigPath, "--node-name", "node-1");
        using (var doc = JsonDocument.Parse(status.Out))
        {
            Assert.Equal(9, doc.RootElement.GetProperty("capacity").GetInt32());
            Assert.Equal("kubernetes", doc.RootElement.GetProperty("capacitySource").GetString());
            Assert.Equal(6, doc.RootElement.GetProperty("vlansFree").GetInt32());
        }

        // The API server gone: the same commands still answer from the kernel and the records.
        await world.Host.DisposeAsync();
        var offline = await node.RunAsync("pods", "-o", "json", "--kubeconfig", world.KubeconfigPath);
        Assert.Equal(0, offline.Code);
        using var off = JsonDocument.Parse(offline.Out);
        Assert.All(off.RootElement.GetProperty("pods").EnumerateArray(), p => Assert.Equal("unknown", p.GetProperty("annotation").GetString()));
        Assert.Equal("ok", off.RootElement.GetProperty("pods").EnumerateArray().Single(p => p.GetProperty("name").GetString() == "green").GetProperty("kernel").GetString());
    }
}
