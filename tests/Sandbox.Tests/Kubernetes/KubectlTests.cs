using System.Diagnostics;
using k8s;

namespace BranchEni.Sandbox.Tests.Kubernetes;

/// <summary>The sandbox's API through the real kubectl (/usr/bin/kubectl) with the kubeconfig the sandbox wrote.</summary>
public sealed class KubectlTests : IAsyncLifetime
{
    private const string PodYaml = """
        apiVersion: v1
        kind: Pod
        metadata:
          name: green
          labels: {app: green}
        spec:
          nodeName: node-1
          containers:
          - name: app
            image: busybox
        """;

    private const string SgpYaml = """
        apiVersion: vpcresources.k8s.aws/v1beta1
        kind: SecurityGroupPolicy
        metadata:
          name: green-sgp
        spec:
          podSelector:
            matchLabels: {app: green}
          securityGroups:
            groupIds: [sg-0a1b2c3d4e5f62002]
        """;

    private BranchEni.Sandbox.Hosting.SandboxHost _sandbox = null!;
    private k8s.Kubernetes _client = null!;
    private string _dir = "";

    public async Task InitializeAsync() => (_sandbox, _client, _dir) = await KubeClients.StartAsync();

    public Task DisposeAsync() => KubeClients.StopAsync(_sandbox, _client, _dir);

    private ProcessStartInfo Kubectl(params string[] args)
    {
        var info = new ProcessStartInfo("/usr/bin/kubectl") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--kubeconfig", Path.Combine(_dir, "kubeconfig"), "--cache-dir", Path.Combine(_dir, "cache"), "--request-timeout", "20s" }.Concat(args))
        {
            info.ArgumentList.Add(a);
        }

        return info;
    }

    private async Task<string> RunAsync(params string[] args)
    {
        using var process = Process.Start(Kubectl(args))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"kubectl {string.Join(' ', args)} exited {process.ExitCode}: {await stderr}");
        return (await stdout).Trim();
    }

    [Fact]
    public async Task Kubectl_gets_applies_annotates_labels_patches_and_deletes()
    {
        Assert.Equal("node/node-1", await RunAsync("get", "nodes", "-o", "name"));
        var pod = Path.Combine(_dir, "pod.yaml");
        var sgp = Path.Combine(_dir, "sgp.yaml");
        await File.WriteAllTextAsync(pod, PodYaml);
        await File.WriteAllTextAsync(sgp, SgpYaml);

        Assert.Equal("pod/green created", await RunAsync("apply", "-f", pod));
        Assert.Equal("securitygrouppolicy.vpcresources.k8s.aws/green-sgp created", await RunAsync("apply", "-f", sgp));
        Assert.Equal("securitygrouppolicy.vpcresources.k8s.aws/green-sgp", await RunAsync("get", "sgp", "-o", "name"));
        Assert.Equal("sg-0a1b2c3d4e5f62002", await RunAsync("get", "sgp", "green-sgp", "-o", "jsonpath={.spec.securityGroups.groupIds[0]}"));

        Assert.Equal("pod/green annotated", await RunAsync("annotate", "pod", "green", "vpc.amazonaws.com/pod-eni=[{\"eniId\":\"eni-1\"}]"));
        Assert.Equal("pod/green labeled", await RunAsync("label", "pod", "green", "tier=web"));
        Assert.Equal("pod/green patched", await RunAsync("patch", "pod", "green", "-p", """{"metadata":{"labels":{"patched":"strategic"}}}"""));
        Assert.Equal("pod/green patched", await RunAsync("patch", "pod", "green", "--type=json", "-p", """[{"op":"add","path":"/metadata/labels/json","value":"yes"}]"""));
        await File.WriteAllTextAsync(pod, PodYaml.Replace("{app: green}", "{app: green, v: \"2\"}", StringComparison.Ordinal));
        Assert.Equal("pod/green configured", await RunAsync("apply", "-f", pod));
        await File.WriteAllTextAsync(sgp, SgpYaml.Replace("[sg-0a1b2c3d4e5f62002]", "[sg-0a1b2c3d4e5f62002, sg-0a1b2c3d4e5f62003]", StringComparison.Ordinal));
        Assert.Equal("securitygrouppolicy.vpcresources.k8s.aws/green-sgp configured", await RunAsync("apply", "-f", sgp));

        var live = await _client.CoreV1.ReadNamespacedPodAsync("green", "default");
        Assert.Equal("[{\"eniId\":\"eni-1\"}]", live.Metadata.Annotations["vpc.amazonaws.com/pod-eni"]);
        Assert.Equal(["app", "json", "patched", "tier", "v"], live.Metadata.Labels.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("sg-0a1b2c3d4e5f62003", await RunAsync("get", "sgp", "green-sgp", "-o", "jsonpath={.spec.securityGroups.groupIds[1]}"));

        Assert.Equal("pod \"green\" deleted", await RunAsync("delete", "pod", "green"));
        Assert.Equal("securitygrouppolicy.vpcresources.k8s.aws \"green-sgp\" deleted", await RunAsync("delete", "-f", sgp));
        Assert.Empty((await _client.CoreV1.ListNamespacedPodAsync("default")).Items);
    }

    [Fact]
    public async Task Kubectl_get_nodes_wide_prints_the_columns_of_a_real_cluster()
    {
        var node = await _client.CoreV1.ReadNodeAsync("node-1");
        var internalIp = node.Status.Addresses.Single(a => a.Type == "InternalIP").Address;

        var table = PrintedTable.Parse(await RunAsync("get", "nodes", "-o", "wide"));

        Assert.Equal(["NAME", "STATUS", "ROLES", "AGE", "VERSION", "INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME"], table.Headers);
        var row = Assert.Single(table.Rows);
        Assert.Equal("node-1", row["NAME"]);
        Assert.Equal("Ready", row["STATUS"]);
        Assert.Equal("<none>", row["ROLES"]);
        Assert.Matches("^[0-9]+s$", row["AGE"]);
        Assert.Equal("v1.32.0", row["VERSION"]);
        Assert.Equal(internalIp, row["INTERNAL-IP"]);
        Assert.Equal("<none>", row["EXTERNAL-IP"]);
        Assert.Equal("Debian GNU/Linux 12 (bookworm)", row["OS-IMAGE"]);
        Assert.Equal("containerd://1.7.0", row["CONTAINER-RUNTIME"]);

        // Without -o wide only the priority-0 columns; a cordoned node says so.
        await RunAsync("cordon", "node-1");
        var narrow = PrintedTable.Parse(await RunAsync("get", "nodes"));
        Assert.Equal(["NAME", "STATUS", "ROLES", "AGE", "VERSION"], narrow.Headers);
        Assert.Equal("Ready,SchedulingDisabled", Assert.Single(narrow.Rows)["STATUS"]);
    }

    [Fact]
    public async Task Kubectl_get_pods_wide_prints_readiness_status_restarts_ip_and_node()
    {
        await File.WriteAllTextAsync(Path.Combine(_dir, "pod.yaml"), PodYaml);
        await RunAsync("apply", "-f", Path.Combine(_dir, "pod.yaml"));
        var pending = PrintedTable.Parse(await RunAsync("get", "pods", "-o", "wide"));
        Assert.Equal(["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED NODE", "READINESS GATES"], pending.Headers);
        var row = Assert.Single(pending.Rows);
        Assert.Equal(("green", "0/1", "Pending", "0", "<none>", "node-1"), (row["NAME"], row["READY"], row["STATUS"], row["RESTARTS"], row["IP"], row["NODE"]));

        // What a kubelet reports once the sandbox is up: phase, address and the container's state.
        await RunAsync("patch", "pod", "green", "--subresource=status", "--type=merge", "-p", """
            {"status":{"phase":"Running","podIP":"192.168.20.7","podIPs":[{"ip":"192.168.20.7"}],
             "containerStatuses":[{"name":"app","image":"busybox","imageID":"","ready":true,"restartCount":2,
               "state":{"running":{"startedAt":"2026-01-01T00:00:00Z"}},
               "lastState":{"terminated":{"exitCode":1,"finishedAt":"2020-01-01T00:00:00Z"}}}]}}
            """);
        var running = Assert.Single(PrintedTable.Parse(await RunAsync("get", "pods", "-o", "wide")).Rows);
        Assert.Equal(("1/1", "Running", "192.168.20.7", "<none>", "<none>"), (running["READY"], running["STATUS"], running["IP"], running["NOMINATED NODE"], running["READINESS GATES"]));
        Assert.Matches("^2 \\([0-9]+y[0-9]*d? ago\\)$", running["RESTARTS"]);

        // The namespace column of -A comes from each row's object metadata.
        var all = PrintedTable.Parse(await RunAsync("get", "pods", "-A"));
        Assert.Equal(["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"], all.Headers);
        Assert.Equal("default", Assert.Single(all.Rows)["NAMESPACE"]);
    }

    [Fact]
    public async Task Kubectl_get_sgp_prints_the_printer_columns_of_the_packaged_crd()
    {
        await File.WriteAllTextAsync(Path.Combine(_dir, "sgp.yaml"), SgpYaml.Replace("[sg-0a1b2c3d4e5f62002]", "[sg-0a1b2c3d4e5f62002, sg-0a1b2c3d4e5f62003]", StringComparison.Ordinal));
        await RunAsync("apply", "-f", Path.Combine(_dir, "sgp.yaml"));

        var table = PrintedTable.Parse(await RunAsync("get", "sgp"));

        Assert.Equal(["NAME", "SECURITY-GROUP-IDS", "AGE"], table.Headers);
        var row = Assert.Single(table.Rows);
        Assert.Equal("green-sgp", row["NAME"]);
        Assert.Equal("""["sg-0a1b2c3d4e5f62002","sg-0a1b2c3d4e5f62003"]""", row["SECURITY-GROUP-IDS"]);
        Assert.Matches("^[0-9]+s$", row["AGE"]);
    }

    [Fact]
    public async Task Kubectl_get_watch_prints_each_change()
    {
        using var watch = Process.Start(Kubectl("get", "pods", "--watch", "--output-watch-events"))!;
        try
        {
            // kubectl lists first, then watches from the list's version: give it a moment to be watching.
            await Task.Delay(1500);
            await _client.CoreV1.CreateNamespacedPodAsync(new k8s.Models.V1Pod
            {
                Metadata = new k8s.Models.V1ObjectMeta { Name = "blue" },
                Spec = new k8s.Models.V1PodSpec { Containers = [new k8s.Models.V1Container { Name = "app", Image = "busybox" }] },
            }, "default");
            await _client.CoreV1.DeleteNamespacedPodAsync("blue", "default");

            var lines = new List<string>();
            var headers = new List<string>();
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            while (lines.Count < 2)
            {
                var line = await watch.StandardOutput.ReadLineAsync(deadline.Token);
                Assert.NotNull(line);
                var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (words[0] == "EVENT")
                {
                    headers.Add(string.Join(' ', words));
                }
                else
                {
                    // Table rows: EVENT NAME READY STATUS RESTARTS AGE.
                    lines.Add($"{words[0]} {words[1]} {words[2]} {words[3]}");
                }
            }

            Assert.Equal(["ADDED blue 0/1 Pending", "DELETED blue 0/1 Pending"], lines);
            // Each event is a one-row Table with the pod columns; kubectl prints their header once.
            Assert.Equal(["EVENT NAME READY STATUS RESTARTS AGE"], headers);
        }
        finally
        {
            watch.Kill();
            await watch.WaitForExitAsync();
        }
    }
}

/// <summary>kubectl's printed table read back by column: cells start where their header starts (kubectl aligns them),
/// so headers and cells with single spaces ("NOMINATED NODE", an OS image name) stay whole.</summary>
internal sealed record PrintedTable(IReadOnlyList<string> Headers, IReadOnlyList<IReadOnlyDictionary<string, string>> Rows)
{
    public static PrintedTable Parse(string output)
    {
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var starts = System.Text.RegularExpressions.Regex.Matches(lines[0], @"\S+(?: \S+)*").Select(m => (m.Index, m.Value)).ToList();
        var rows = lines.Skip(1).Select(line => (IReadOnlyDictionary<string, string>)starts.Select((h, i) =>
        {
            var end = i + 1 < starts.Count ? Math.Min(starts[i + 1].Index, line.Length) : line.Length;
            return (h.Value, Cell: h.Index < line.Length ? line[h.Index..end].Trim() : "");
        }).ToDictionary(c => c.Value, c => c.Cell)).ToList();
        return new PrintedTable(starts.Select(s => s.Value).ToList(), rows);
    }
}
