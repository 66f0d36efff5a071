using System.Net;
using System.Text;
using BranchEni.Controller.Configuration;
using BranchEni.Controller.Tls;
using BranchEni.Kube;

namespace BranchEni.Controller.Tests.Sandbox;

/// <summary>
/// A controller whose caches cannot sync (its API server does not answer) but whose webhooks are up, with
/// cert-manager-style certificate files: the sandbox's API server calls it, and a pod that might need a branch is
/// denied with "try again" while hostNetwork pods still go through.
/// </summary>
public sealed class UnsyncedTests(ControllerWorld world) : IClassFixture<ControllerWorld>
{
    [Fact]
    public async Task Until_its_caches_sync_the_mutating_webhook_asks_the_client_to_try_again()
    {
        await world.StopControllerAsync();
        var port = ControllerWorld.FreePort();
        var health = ControllerWorld.FreePort();
        var url = new Uri($"https://127.0.0.1:{port}");
        var material = TlsMaterial.Create(ServingNames.ForUrl(url), DateTimeOffset.UtcNow);
        var cert = Path.Combine(world.Directory, "unsynced.crt");
        var key = Path.Combine(world.Directory, "unsynced.key");
        await File.WriteAllTextAsync(cert, material.Certificate);
        await File.WriteAllTextAsync(key, material.Key);

        // What cert-manager's CA injector would do: the configuration gets the CA; the controller leaves it alone.
        var clientConfig = $$$"""[{"op": "replace", "path": "/webhooks/0/clientConfig", "value": {"url": "{{{url}}}mutate-v1-pod", "caBundle": "{{{Convert.ToBase64String(Encoding.ASCII.GetBytes(material.CaBundle))}}}"}}]""";
        await Kubectl.RunAsync(world, "admin", null, "patch", "mutatingwebhookconfiguration", "branch-eni", "--type", "json", "-p", clientConfig);

        var options = new ControllerOptions
        {
            WebhookAddress = $"127.0.0.1:{port}",
            WebhookUrl = url.ToString(),
            HealthAddress = $"127.0.0.1:{health}",
            TlsCertFile = cert,
            TlsKeyFile = key,
            LeaderElect = false,
        };
        // Port 1 on loopback refuses connections: the informers retry forever and never sync.
        using var deadApi = new KubeConnection(new k8s.Kubernetes(new k8s.KubernetesClientConfiguration { Host = "http://127.0.0.1:1" }));
        var controller = new BranchEniController(options, deadApi, Serilog.Core.Logger.None);
        using var stop = new CancellationTokenSource();
        var run = Task.Run(() => controller.RunAsync(stop.Token));
        await ControllerWorld.Eventually(() => Task.FromResult(controller.Certificates.Current is not null), "the certificate files to load");

        var ready = await world.Http.GetAsync(new Uri($"http://127.0.0.1:{health}/readyz"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Contains("caches have not synced", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var pod = """{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "early", "namespace": "app"}, "spec": {"containers": [{"name": "app", "image": "busybox"}]}}""";
        var denied = await Kubectl.RunAsync(world, "admin", pod, mayFail: true, "create", "-f", "-");
        Assert.NotEqual(0, denied.ExitCode);
        Assert.Contains("admission webhook \"pod-eni-resource.branch-eni.k8s.aws\" denied the request: branch-eni-controller has not yet read every SecurityGroupPolicy and ServiceAccount", denied.Stderr, StringComparison.Ordinal);
        Assert.Contains("try again in a few seconds", denied.Stderr, StringComparison.Ordinal);

        await Kubectl.RunAsync(world, "admin", pod.Replace("\"early\"", "\"host\"", StringComparison.Ordinal).Replace("\"containers\"", "\"hostNetwork\": true, \"containers\"", StringComparison.Ordinal), "create", "-f", "-");

        await stop.CancelAsync();
        await run;
    }
}
