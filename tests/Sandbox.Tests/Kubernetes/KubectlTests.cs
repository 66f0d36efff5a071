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
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            while (lines.Count < 2)
            {
                var line = await watch.StandardOutput.ReadLineAsync(deadline.Token);
                Assert.NotNull(line);
                var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (words[0] != "EVENT")
                {
                    // Table rows: EVENT NAME AGE.
                    lines.Add($"{words[0]} {words[1]}");
                }
            }

            Assert.Equal(["ADDED blue", "DELETED blue"], lines);
        }
        finally
        {
            watch.Kill();
            await watch.WaitForExitAsync();
        }
    }
}
