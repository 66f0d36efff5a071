using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using k8s;
using k8s.Autorest;
using k8s.Models;
using BranchEni.Sandbox.Hosting;

namespace BranchEni.Sandbox.Tests.Kubernetes.Admission;

/// <summary>
/// Per test: a sandbox writing its kubeconfig, KubernetesClient as admin, and a real HTTPS webhook server; clients
/// for the other identities come from the kubeconfig's contexts, as the controller's tests will build them.
/// </summary>
public abstract class AdmissionFixture : IAsyncLifetime
{
    protected SandboxHost Sandbox { get; private set; } = null!;
    protected k8s.Kubernetes Client { get; private set; } = null!;
    protected string Dir { get; private set; } = "";
    internal WebhookServer Webhooks { get; private set; } = null!;

    public virtual async Task InitializeAsync()
    {
        (Sandbox, Client, Dir) = await KubeClients.StartAsync();
        Webhooks = await WebhookServer.StartAsync();
    }

    public virtual async Task DisposeAsync()
    {
        await Webhooks.DisposeAsync();
        await KubeClients.StopAsync(Sandbox, Client, Dir);
    }

    /// <summary>KubernetesClient as one of the kubeconfig's contexts: "admin", "agent" or "user".</summary>
    protected k8s.Kubernetes ClientAs(string context) =>
        new(KubernetesClientConfiguration.BuildConfigFromConfigFile(Path.Combine(Dir, "kubeconfig"), currentContext: context));

    protected static V1Pod Pod(string name, Dictionary<string, string>? labels = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, Labels = labels ?? new() { ["app"] = name } },
        Spec = new V1PodSpec { NodeName = "node-1", Containers = [new V1Container { Name = "app", Image = "busybox" }] },
    };

    /// <summary>A loopback port nothing listens on: a webhook that is down.</summary>
    protected static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The Status the API server answered a failed call with: HTTP code and message.</summary>
    protected static async Task<(HttpStatusCode Code, string Message, string? Reason)> RefusedAsync(Func<Task> call)
    {
        var e = await Assert.ThrowsAsync<HttpOperationException>(call);
        using var status = JsonDocument.Parse(e.Response.Content);
        var root = status.RootElement;
        Assert.Equal("Status", root.GetProperty("kind").GetString());
        Assert.Equal((int)e.Response.StatusCode, root.GetProperty("code").GetInt32());
        return (e.Response.StatusCode, root.GetProperty("message").GetString()!,
            root.TryGetProperty("reason", out var reason) ? reason.GetString() : null);
    }

    protected async Task<IList<string>> PodNamesAsync(string ns = "default") =>
        (await Client.CoreV1.ListNamespacedPodAsync(ns)).Items.Select(p => p.Metadata.Name).Order(StringComparer.Ordinal).ToList();
}
