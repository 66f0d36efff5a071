using Amazon.EC2;
using Amazon.Runtime;
using BranchEni.Sandbox.Hosting;

namespace BranchEni.Sandbox.Tests;

/// <summary>Starts an in-process sandbox for one test and builds real SDK clients pointed at it.</summary>
internal static class TestSandbox
{
    /// <summary>A sandbox with the default seed and no latency model, so tests are fast.</summary>
    public static Task<SandboxHost> StartAsync(Action<SandboxOptions>? configure = null)
    {
        var options = new SandboxOptions
        {
            Latency = new LatencySettings { DescribeMilliseconds = 0, MutatingMilliseconds = 0, JitterMilliseconds = 0 },
        };
        configure?.Invoke(options);
        return SandboxHost.StartAsync(options);
    }

    public static AmazonEC2Client Ec2(SandboxHost sandbox, int? maxErrorRetry = null)
    {
        var config = new AmazonEC2Config
        {
            ServiceURL = sandbox.Endpoints.Ec2.ToString(),
            AuthenticationRegion = "us-west-2",
        };
        if (maxErrorRetry is { } retries)
        {
            config.MaxErrorRetry = retries;
        }

        return new AmazonEC2Client(new BasicAWSCredentials("AKIASANDBOXEXAMPLE", "sandbox-secret"), config);
    }
}
