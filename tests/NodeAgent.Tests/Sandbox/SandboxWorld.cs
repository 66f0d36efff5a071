using Amazon.EC2;
using Amazon.Runtime;
using BranchEni.Agent.Ec2;
using BranchEni.Agent.Observability;
using BranchEni.Sandbox.Hosting;
using BranchEni.Sandbox.Seed;

namespace BranchEni.Agent.Tests.Sandbox;

/// <summary>A sandbox started in process for one test, and the real clients pointed at it.</summary>
internal sealed class SandboxWorld : IAsyncDisposable
{
    private SandboxWorld(SandboxHost host, string stateDir)
    {
        Host = host;
        StateDir = stateDir;
        Ec2 = CreateEc2(host.Endpoints.Ec2);
    }

    public SandboxHost Host { get; }

    /// <summary>A fresh temp directory for records (and the sandbox's kubeconfig).</summary>
    public string StateDir { get; }

    public IAmazonEC2 Ec2 { get; }

    public string InstanceId => DefaultSeed.NodeInstanceId;

    public string KubeconfigPath => Path.Combine(StateDir, "sandbox", "kubeconfig");

    public static async Task<SandboxWorld> StartAsync(Action<SandboxOptions>? configure = null)
    {
        var dir = Directory.CreateTempSubdirectory("branch-eni-agent-test-").FullName;
        var options = new SandboxOptions { StateDirectory = Path.Combine(dir, "sandbox") };
        configure?.Invoke(options);
        Directory.CreateDirectory(options.StateDirectory);
        var host = await SandboxHost.StartAsync(options);
        return new SandboxWorld(host, dir);
    }

    public static IAmazonEC2 CreateEc2(Uri endpoint) => new AmazonEC2Client(
        new BasicAWSCredentials("AKIDEXAMPLE", "secret"),
        new AmazonEC2Config { ServiceURL = endpoint.ToString(), AuthenticationRegion = "us-west-2", MaxErrorRetry = 0 });

    public Ec2Gateway Gateway(AgentMetrics? metrics = null, Ec2CallLimits? limits = null) =>
        new(Ec2, new Ec2CallPolicy(limits ?? new Ec2CallLimits(), metrics ?? new AgentMetrics(), Serilog.Core.Logger.None));

    public async Task<InstanceIdentity> IdentityAsync()
    {
        using var http = new HttpClient();
        return await new InstanceMetadataClient(http, Host.Endpoints.Imds).ReadIdentityAsync(CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        Ec2.Dispose();
        await Host.DisposeAsync();
        try
        {
            Directory.Delete(StateDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
