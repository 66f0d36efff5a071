using k8s;
using BranchEni.Sandbox.Hosting;

namespace BranchEni.Sandbox.Tests.Kubernetes;

/// <summary>The real KubernetesClient pointed at an in-process sandbox through a kubeconfig it wrote.</summary>
internal static class KubeClients
{
    public static async Task<(SandboxHost Sandbox, k8s.Kubernetes Client, string Dir)> StartAsync()
    {
        var dir = Directory.CreateTempSubdirectory("sandbox-kube-").FullName;
        var sandbox = await TestSandbox.StartAsync(o => o.StateDirectory = dir);
        var config = KubernetesClientConfiguration.BuildConfigFromConfigFile(Path.Combine(dir, "kubeconfig"));
        return (sandbox, new k8s.Kubernetes(config), dir);
    }

    public static async Task StopAsync(SandboxHost sandbox, k8s.Kubernetes client, string dir)
    {
        client.Dispose();
        await sandbox.DisposeAsync();
        Directory.Delete(dir, recursive: true);
    }
}
