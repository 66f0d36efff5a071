using System.Net;
using System.Text;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace BranchEni.Sandbox.Tests.Kubernetes;

/// <summary>Leases (leader election), Secrets, Services and NetworkPolicies through KubernetesClient and kubectl discovery.</summary>
public sealed class NewResourceTests : IAsyncLifetime
{
    private BranchEni.Sandbox.Hosting.SandboxHost _sandbox = null!;
    private k8s.Kubernetes _client = null!;
    private string _dir = "";

    public async Task InitializeAsync() => (_sandbox, _client, _dir) = await KubeClients.StartAsync();

    public Task DisposeAsync() => KubeClients.StopAsync(_sandbox, _client, _dir);

    [Fact]
    public async Task A_lease_update_from_a_stale_resource_version_is_a_conflict()
    {
        var lease = new V1Lease
        {
            Metadata = new V1ObjectMeta { Name = "branch-eni-controller" },
            Spec = new V1LeaseSpec { HolderIdentity = "replica-a", LeaseDurationSeconds = 15, AcquireTime = DateTime.UtcNow, RenewTime = DateTime.UtcNow },
        };
        var created = await _client.CoordinationV1.CreateNamespacedLeaseAsync(lease, "kube-system");
        var again = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CoordinationV1.CreateNamespacedLeaseAsync(lease, "kube-system"));
        Assert.Equal(HttpStatusCode.Conflict, again.Response.StatusCode);

        created.Spec.HolderIdentity = "replica-b";
        var taken = await _client.CoordinationV1.ReplaceNamespacedLeaseAsync(created, "branch-eni-controller", "kube-system");
        Assert.Equal("replica-b", taken.Spec.HolderIdentity);

        // Replica A renews from what it read before B took the lease: refused, B keeps it.
        created.Spec.HolderIdentity = "replica-a";
        var stale = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CoordinationV1.ReplaceNamespacedLeaseAsync(created, "branch-eni-controller", "kube-system"));
        Assert.Equal(HttpStatusCode.Conflict, stale.Response.StatusCode);
        using var status = System.Text.Json.JsonDocument.Parse(stale.Response.Content);
        Assert.StartsWith("Operation cannot be fulfilled on leases.coordination.k8s.io \"branch-eni-controller\"",
            status.RootElement.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal("replica-b", (await _client.CoordinationV1.ReadNamespacedLeaseAsync("branch-eni-controller", "kube-system")).Spec.HolderIdentity);
    }

    [Fact]
    public async Task A_secret_keeps_its_data_and_folds_string_data_into_it()
    {
        var secret = new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = "webhook-tls" },
            Data = new Dictionary<string, byte[]> { ["tls.crt"] = Encoding.ASCII.GetBytes("CERT") },
            StringData = new Dictionary<string, string> { ["tls.key"] = "KEY" },
        };
        await _client.CoreV1.CreateNamespacedSecretAsync(secret, "kube-system");

        var read = await _client.CoreV1.ReadNamespacedSecretAsync("webhook-tls", "kube-system");
        Assert.Equal("Opaque", read.Type);
        Assert.Equal("CERT", Encoding.ASCII.GetString(read.Data["tls.crt"]));
        Assert.Equal("KEY", Encoding.ASCII.GetString(read.Data["tls.key"]));
        Assert.Null(read.StringData);

        using var http = new HttpClient { BaseAddress = _sandbox.Endpoints.Kubernetes };
        using var bad = await http.PostAsync("/api/v1/namespaces/kube-system/secrets",
            new StringContent("""{"metadata":{"name":"bad"},"data":{"k":"not base64!"}}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Single((await _client.CoreV1.ListNamespacedSecretAsync("kube-system")).Items);
    }

    [Fact]
    public async Task Services_and_network_policies_are_stored_and_discovered_by_kubectl()
    {
        await _client.CoreV1.CreateNamespacedServiceAsync(new V1Service
        {
            Metadata = new V1ObjectMeta { Name = "branch-eni-webhook" },
            Spec = new V1ServiceSpec { Ports = [new V1ServicePort { Port = 443, TargetPort = 9443 }] },
        }, "kube-system");
        await _client.NetworkingV1.CreateNamespacedNetworkPolicyAsync(new V1NetworkPolicy
        {
            Metadata = new V1ObjectMeta { Name = "db-sg" },
            Spec = new V1NetworkPolicySpec { PodSelector = new V1LabelSelector(), PolicyTypes = ["Ingress"] },
        }, "default");
        Assert.Equal("ClusterIP", (await _client.CoreV1.ReadNamespacedServiceAsync("branch-eni-webhook", "kube-system")).Spec.Type);

        var info = new System.Diagnostics.ProcessStartInfo("/usr/bin/kubectl") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--kubeconfig", Path.Combine(_dir, "kubeconfig"), "--cache-dir", Path.Combine(_dir, "cache"), "get", "svc,netpol,leases,secrets", "-A", "-o", "name" })
        {
            info.ArgumentList.Add(a);
        }

        using var kubectl = System.Diagnostics.Process.Start(info)!;
        var stdout = await kubectl.StandardOutput.ReadToEndAsync();
        var stderr = await kubectl.StandardError.ReadToEndAsync();
        await kubectl.WaitForExitAsync();
        Assert.True(kubectl.ExitCode == 0, stderr);
        Assert.Equal(["service/branch-eni-webhook", "networkpolicy.networking.k8s.io/db-sg"], stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
