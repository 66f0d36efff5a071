using System.Diagnostics;
using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.Runtime;
using BranchEni.Aws;
using BranchEni.Sandbox.Ec2;
using BranchEni.Sandbox.Hosting;
using BranchEni.Sandbox.Seed;

namespace BranchEni.Bench;

/// <summary>
/// Agents sharing one account's EC2 budget without a coordinator (issue 20): <see cref="Clients"/> clients, each an
/// <see cref="Ec2CallPolicy"/> over its own real AmazonEC2Client, make <see cref="CallsPerClient"/> CreateTags calls
/// each, all at once, against the in-process sandbox's default CreateTags bucket (10/s, burst 100, per account). Three
/// disciplines, the account bucket refilled before each: AIMD on our local buckets (the default), the AWS SDK's
/// adaptive retry mode (its client-side rate limiter, no local buckets of ours), and today's fixed local buckets. Rows:
/// time until every call succeeded against the token-bucket floor of the calls served, and throttled answers / all.
/// </summary>
internal static class RateBench
{
    private const int Clients = 20;
    private const int CallsPerClient = 12;

    /// <summary>A run that has not finished by then is reported at this time (a lower bound).</summary>
    private static readonly TimeSpan Cap = TimeSpan.FromSeconds(45);

    public static IEnumerable<Measurement> Run() => RunAsync().GetAwaiter().GetResult();

    private static async Task<IReadOnlyList<Measurement>> RunAsync()
    {
        var dir = Directory.CreateTempSubdirectory("branch-eni-bench-rate-").FullName;
        try
        {
            var options = new SandboxOptions { StateDirectory = Path.Combine(dir, "sandbox") };
            Directory.CreateDirectory(options.StateDirectory);
            await using var host = await SandboxHost.StartAsync(options);
            var rows = new List<Measurement>();
            foreach (var (name, aimed) in new[] { ("AIMD (default)", true), ("SDK adaptive retry", false), ("fixed buckets (before)", false) })
            {
                var (ms, served, throttledPercent) = await MeasureAsync(host, name);
                var capped = served < Clients * CallsPerClient ? $" (stopped at {Cap.TotalSeconds:0} s: {served} served)" : "";
                rows.Add(new Measurement($"rate: {Clients} clients x {CallsPerClient} CreateTags, {name}{capped}", ms, "token-bucket floor", FloorMs(host.Admin.Throttling.CreateTags),
                    AimRatio: aimed ? 1.2 : null, AimAbsolute: null));
                rows.Add(new Measurement($"  throttled / all calls, {name}", throttledPercent, "-", null, AimRatio: null,
                    AimAbsolute: aimed ? 50 : null, Unit: "%"));
            }

            return rows;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>The shortest time the account bucket allows for all the calls: those beyond its burst at its refill rate
    /// (every discipline has the same work; a run stopped at the cap is still compared with the whole of it).</summary>
    private static double FloorMs(BucketSettings bucket) => Math.Max(0, (Clients * CallsPerClient) - bucket.Capacity) / bucket.RefillPerSecond * 1000;

    private static async Task<(double Ms, long Served, double ThrottledPercent)> MeasureAsync(SandboxHost host, string mode)
    {
        host.Admin.Throttling = host.Admin.Throttling; // a full account bucket, as the floor assumes
        var clients = Enumerable.Range(0, Clients).Select(_ => Client(host.Endpoints.Ec2, sdkAdaptive: mode.StartsWith("SDK", StringComparison.Ordinal))).ToList();
        try
        {
            var policies = clients.Select(_ => new Ec2CallPolicy(Limits(mode), new NoMetrics(), Serilog.Core.Logger.None)).ToList();
            var before = host.Admin.CallCounts;
            using var cap = new CancellationTokenSource(Cap);
            var clock = Stopwatch.StartNew();
            try
            {
                await Task.WhenAll(clients.Select((c, i) => CallsAsync(c, policies[i], i, cap.Token)));
            }
            catch (OperationCanceledException)
            {
                Console.Error.WriteLine($"rate: {mode} did not finish in {Cap.TotalSeconds} s; reported at the cap");
            }

            var ms = clock.Elapsed.TotalMilliseconds;
            Console.Error.WriteLine($"rate: {mode} done in {ms / 1000:0.0} s");
            var after = host.Admin.CallCounts;
            var calls = after["CreateTags"].Calls - (before.GetValueOrDefault("CreateTags")?.Calls ?? 0);
            var throttled = after["CreateTags"].Throttled - (before.GetValueOrDefault("CreateTags")?.Throttled ?? 0);
            return (ms, calls - throttled, 100.0 * throttled / calls);
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
    }

    private static async Task CallsAsync(IAmazonEC2 ec2, Ec2CallPolicy policy, int client, CancellationToken cancellationToken)
    {
        for (var i = 0; i < CallsPerClient; i++)
        {
            var request = new CreateTagsRequest
            {
                Resources = [DefaultSeed.NodeInstanceId],
                Tags = [new Tag($"bench-{client}", i.ToString(System.Globalization.CultureInfo.InvariantCulture))],
            };
            await policy.CallAsync("CreateTags", ct => Unwrapped(ec2.CreateTagsAsync(request, ct)), cancellationToken);
        }
    }

    /// <summary>
    /// The SDK's adaptive mode gives up on its own when its retry quota or its client-side rate limiter has no capacity
    /// ("insufficient capacity", an AmazonClientException, around EC2's RequestLimitExceeded or around nothing). Either
    /// is a throttle our policy waits out and retries, so it is handed on as one.
    /// </summary>
    private static async Task<T> Unwrapped<T>(Task<T> call)
    {
        try
        {
            return await call;
        }
        catch (AmazonClientException e) when (e.Message.Contains("capacity", StringComparison.Ordinal))
        {
            throw new AmazonServiceException(e.Message, e) { ErrorCode = "RequestLimitExceeded", StatusCode = System.Net.HttpStatusCode.ServiceUnavailable };
        }
    }

    /// <summary>Every call must finish, so retries are not limited by count; the SDK's mode has no local buckets of ours.</summary>
    private static Ec2CallLimits Limits(string mode) => mode switch
    {
        _ when mode.StartsWith("AIMD", StringComparison.Ordinal) => new Ec2CallLimits { MaxAttempts = 1000 },
        _ when mode.StartsWith("SDK", StringComparison.Ordinal) => new Ec2CallLimits
        {
            Buckets = new Dictionary<string, (double, int)>(StringComparer.Ordinal), Adaptive = null, MaxAttempts = 1000,
        },
        _ => new Ec2CallLimits { Adaptive = null, MaxAttempts = 1000 },
    };

    /// <summary>The client the agent makes, or the same with the SDK's adaptive retry mode (its default 3 retries).</summary>
    private static AmazonEC2Client Client(Uri endpoint, bool sdkAdaptive) => new(
        new BasicAWSCredentials("AKIDEXAMPLE", "secret"),
        new AmazonEC2Config
        {
            ServiceURL = endpoint.ToString(),
            AuthenticationRegion = "us-west-2",
            RetryMode = sdkAdaptive ? RequestRetryMode.Adaptive : RequestRetryMode.Standard,
            MaxErrorRetry = sdkAdaptive ? 3 : 0,
        });

    private sealed class NoMetrics : IEc2CallMetrics
    {
        public void Ec2Call(string action, string outcome)
        {
        }

        public void Ec2Throttled(string action)
        {
        }

        public void Ec2Retry()
        {
        }
    }
}
