using BranchEni.Sandbox.Seed;

namespace BranchEni.Sandbox.Kubernetes;

/// <summary>The API server's object store (placeholder until the Kubernetes part lands).</summary>
internal sealed class KubernetesStore(SandboxSeed seed)
{
    public SandboxSeed Seed { get; } = seed;

    public void Shutdown()
    {
    }
}
