using System.Diagnostics;
using System.Net;
using Amazon.Runtime;
using BranchEni.Agent.Ec2;
using BranchEni.Agent.Observability;

namespace BranchEni.Agent.Tests.Ec2;

public sealed class Ec2DisciplineTests
{
    [Fact]
    public void The_bucket_gives_its_burst_then_refills_at_its_rate()
    {
        long now = 0;
        var bucket = new TokenBucket(5, 3, () => now);
        Assert.Null(bucket.TryTake());
        Assert.Null(bucket.TryTake());
        Assert.Null(bucket.TryTake());
        var wait = bucket.TryTake();
        Assert.NotNull(wait);
        Assert.InRange(wait.Value.TotalMilliseconds, 199, 201);
        now += Stopwatch.Frequency / 5;
        Assert.Null(bucket.TryTake());
        now += Stopwatch.Frequency * 100;
        for (var i = 0; i < 3; i++)
        {
            Assert.Null(bucket.TryTake());
        }

        Assert.NotNull(bucket.TryTake());
    }

    [Fact]
    public async Task Takes_wait_for_the_refill_in_real_time()
    {
        var bucket = new TokenBucket(20, 2);
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < 6; i++)
        {
            await bucket.TakeAsync(CancellationToken.None);
        }

        // 2 from the burst, 4 more at 20/s: at least ~200 ms.
        Assert.InRange(clock.ElapsedMilliseconds, 180, 2000);
    }

    [Fact]
    public async Task A_wait_looks_again_when_the_rate_changes_while_it_sleeps()
    {
        // One token at 0.05/s is 20 s away; the rate rises while the caller sleeps, and the wait ends with it.
        var bucket = new TokenBucket(0.05, 1);
        Assert.Null(bucket.TryTake());
        var looks = 0;
        var clock = Stopwatch.StartNew();
        await bucket.TakeAsync(CancellationToken.None, () =>
        {
            if (++looks == 2)
            {
                bucket.SetRate(50);
            }
        });

        Assert.InRange(clock.ElapsedMilliseconds, 400, 5000);
        Assert.InRange(looks, 2, 4); // two slices, then one wait of ~20 ms for the token at 50/s: no spinning on a sub-ms wait
    }

    [Fact]
    public void Throttling_server_errors_and_transport_failures_are_retried_other_errors_are_not()
    {
        Assert.Equal("throttled", Ec2CallPolicy.Classify(new AmazonServiceException("slow down") { ErrorCode = "RequestLimitExceeded", StatusCode = HttpStatusCode.ServiceUnavailable }));
        Assert.Equal("server-error", Ec2CallPolicy.Classify(new AmazonServiceException("boom") { ErrorCode = "InternalError", StatusCode = HttpStatusCode.InternalServerError }));
        Assert.Equal("transport", Ec2CallPolicy.Classify(new HttpRequestException("reset")));
        Assert.Null(Ec2CallPolicy.Classify(new AmazonServiceException("no") { ErrorCode = "InvalidParameterValue", StatusCode = HttpStatusCode.BadRequest }));
        Assert.Null(Ec2CallPolicy.Classify(new InvalidOperationException()));
    }

    [Theory]
    [InlineData("CreateNetworkInterface", "CreateNetworkInterface")]
    [InlineData("DeleteNetworkInterface", "DeleteNetworkInterface")]
    [InlineData("DescribeNetworkInterfaces", "describe")]
    [InlineData("AssociateTrunkInterface", "mutating")]
    [InlineData("AttachNetworkInterface", "mutating")]
    public void Actions_map_to_the_documented_buckets(string action, string bucket) => Assert.Equal(bucket, Ec2CallPolicy.BucketFor(action));

    [Fact]
    public async Task A_throttled_call_is_retried_with_backoff_counted_and_bounded()
    {
        var metrics = new AgentMetrics();
        var policy = new Ec2CallPolicy(new Ec2CallLimits { MaxAttempts = 3, BaseDelay = TimeSpan.FromMilliseconds(1) }, metrics, Serilog.Core.Logger.None);
        var calls = 0;
        var result = await policy.CallAsync("AssociateTrunkInterface", _ =>
        {
            if (++calls < 3)
            {
                throw new AmazonServiceException("throttled") { ErrorCode = "RequestLimitExceeded", StatusCode = HttpStatusCode.ServiceUnavailable };
            }

            return Task.FromResult(42);
        }, CancellationToken.None);
        Assert.Equal(42, result);
        Assert.Equal(2, metrics.Ec2Calls("AssociateTrunkInterface", "throttled"));
        Assert.Equal(1, metrics.Ec2Calls("AssociateTrunkInterface", "success"));
        Assert.Equal(2, metrics.Retries);

        calls = 0;
        await Assert.ThrowsAsync<AmazonServiceException>(() => policy.CallAsync<int>("DeleteNetworkInterface", _ =>
        {
            calls++;
            throw new AmazonServiceException("down") { ErrorCode = "Unavailable", StatusCode = HttpStatusCode.ServiceUnavailable };
        }, CancellationToken.None));
        Assert.Equal(3, calls);
        Assert.Contains("branch_eni_ec2_calls_total{action=\"DeleteNetworkInterface\",outcome=\"server-error\"} 3", metrics.Render(), StringComparison.Ordinal);
    }

    [Fact]
    public void Backoff_is_jittered_under_an_exponential_ceiling()
    {
        var policy = new Ec2CallPolicy(new Ec2CallLimits { BaseDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromSeconds(1) }, new AgentMetrics(), Serilog.Core.Logger.None);
        var samples = Enumerable.Range(0, 200).Select(_ => policy.Backoff(3).TotalMilliseconds).ToList();
        Assert.All(samples, s => Assert.InRange(s, 0, 400));
        Assert.True(samples.Distinct().Count() > 100);
        Assert.All(Enumerable.Range(0, 50).Select(_ => policy.Backoff(20).TotalMilliseconds), s => Assert.InRange(s, 0, 1000));
    }
}
