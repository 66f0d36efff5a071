using BranchEni.Sandbox.Seed;

namespace BranchEni.Sandbox.Hosting;

/// <summary>Everything a sandbox starts with; all of it except the seed can be changed later through the admin API.</summary>
public sealed class SandboxOptions
{
    public SandboxSeed Seed { get; set; } = DefaultSeed.Create();
    public ThrottleSettings Throttling { get; set; } = new();
    public LatencySettings Latency { get; set; } = new();
    public FaultSettings Faults { get; set; } = new();

    /// <summary>When set, endpoints.json and kubeconfig are written there once every listener is up.</summary>
    public string? StateDirectory { get; set; }
}

/// <summary>
/// Where the four emulators listen (all on 127.0.0.1, ports chosen by the OS). <see cref="Imds"/> describes the selected
/// instance (<c>Admin.ImdsInstanceId</c>); <see cref="ImdsByInstance"/> has one listener per running instance, each
/// always describing that instance, and follows instances launched and terminated at runtime.
/// </summary>
public sealed record SandboxEndpoints(Uri Ec2, Uri Imds, Uri Kubernetes, Uri Admin)
{
    public IReadOnlyDictionary<string, Uri> ImdsByInstance { get; init; } = new Dictionary<string, Uri>();
}
