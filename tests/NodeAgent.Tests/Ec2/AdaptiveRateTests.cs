using System.Diagnostics;
using System.Net;
using Amazon.EC2.Model;
using Amazon.Runtime;
using BranchEni.Agent.Observability;
using BranchEni.Agent.Tests.Sandbox;
using BranchEni.Sandbox.Hosting;

namespace BranchEni.Agent.Tests.Ec2;

/// <summary>AIMD over the local action buckets (issue 20), on an injected clock: no test here waits for real time.</summary>
public sealed class AdaptiveRateTests
{
    // The cut mechanics on their own (a cut on any throttle); the tolerance has its own tests below.
    private static readonly AdaptiveSettings Settings = new()
    {
        Floor = 0.05, DecreaseFactor = 0.5, IncreaseFraction = 0.1, CutWindow = TimeSpan.FromMilliseconds(250), ThrottleTolerance = 0,
    };

    private long _now = 1;

    private (TokenBucket Bucket, AdaptiveRate Rate) Make(double ceiling = 10, int burst = 100, AdaptiveSettings? settings = null)
    {
        var bucket = new TokenBucket(ceiling, burst, () => _now);
        return (bucket, new AdaptiveRate(bucket, ceiling, settings ?? Settings, () => _now));
    }

    [Fact]
    public void Throttles_below_the_tolerance_neither_cut_nor_stop_growth()
    {
        // Three answers in ten throttled, as when other clients of the account (or EC2 itself) throttle whatever this
        // agent does: the rate stays at the ceiling, and a rate below it keeps growing.
        var (bucket, rate) = Make(settings: new AdaptiveSettings());
        bucket.SetRate(4);
        for (var i = 0; i < 200; i++)
        {
            Advance(0.1);
            Assert.Null(i % 10 is 2 or 5 or 8 ? rate.Throttled() : null);
            if (i % 10 is not (2 or 5 or 8))
            {
                rate.Succeeded();
            }
        }

        Assert.InRange(rate.ThrottleShare, 0.2, 0.45);
        Assert.Equal(10, rate.Rate);
    }

    [Fact]
    public void A_run_of_throttles_past_the_tolerance_cuts_and_empties_the_bucket()
    {
        // The agents themselves overrun the account: nearly every answer is a throttle.
        var (bucket, rate) = Make(settings: new AdaptiveSettings());
        var cuts = new List<(double, double)>();
        for (var i = 0; i < 7; i++)
        {
            Advance(0.3);
            if (rate.Throttled() is { } cut)
            {
                cuts.Add(cut);
            }
        }

        Assert.Equal([(10d, 5d)], cuts); // 1 - 0.9^7 = 0.52: the seventh throttle in a row passes 0.5
        Assert.NotNull(bucket.TryTake());
    }

    private void Advance(double seconds) => _now += (long)(seconds * Stopwatch.Frequency);

    [Fact]
    public void A_throttle_halves_the_rate_and_empties_the_bucket_so_the_burst_stops_at_once()
    {
        var (bucket, rate) = Make();
        Assert.Null(bucket.TryTake()); // a full burst of 100 before the throttle
        Assert.Equal((10d, 5d), rate.Throttled());
        Assert.Equal(5, rate.Rate);
        var wait = bucket.TryTake();
        Assert.NotNull(wait);
        Assert.InRange(wait.Value.TotalMilliseconds, 199, 201); // one token at the new 5/s
    }

    [Fact]
    public void A_storm_of_throttles_within_the_window_is_one_cut()
    {
        var (_, rate) = Make();
        Assert.NotNull(rate.Throttled());
        for (var i = 0; i < 8; i++)
        {
            Advance(0.02);
            Assert.Null(rate.Throttled());
        }

        Assert.Equal(5, rate.Rate);
        Advance(0.25);
        Assert.Equal((5d, 2.5d), rate.Throttled());
    }

    [Fact]
    public void Success_grows_the_rate_by_a_tenth_of_the_ceiling_per_second_up_to_the_ceiling()
    {
        var (_, rate) = Make();
        rate.Throttled();
        Advance(1);
        rate.Succeeded();
        Assert.Equal(6, rate.Rate, 6);
        Advance(0.5);
        rate.Succeeded();
        Assert.Equal(6.5, rate.Rate, 6);

        // A long quiet spell counts as one second, not as a jump back to the ceiling.
        Advance(60);
        rate.Succeeded();
        Assert.Equal(7.5, rate.Rate, 6);
        for (var i = 0; i < 10; i++)
        {
            Advance(1);
            rate.Succeeded();
        }

        Assert.Equal(10, rate.Rate);
    }

    [Fact]
    public void Cuts_stop_at_the_floor()
    {
        var (_, rate) = Make();
        for (var i = 0; i < 20; i++)
        {
            Advance(1);
            rate.Throttled();
        }

        Assert.Equal(0.05, rate.Rate);
        Advance(1);
        Assert.Equal((0.05, 0.05), rate.Throttled());
    }

    [Fact]
    public async Task The_policy_cuts_the_action_bucket_on_a_throttle_and_only_when_adaptive()
    {
        Func<Task<int>> throttled = () => throw new AmazonServiceException("slow down") { ErrorCode = "RequestLimitExceeded", StatusCode = HttpStatusCode.ServiceUnavailable };
        var adaptive = new Ec2CallPolicy(new Ec2CallLimits { MaxAttempts = 1 }, new AgentMetrics(), Serilog.Core.Logger.None);
        for (var i = 0; i < 7; i++)
        {
            // Seven throttles in a row: past the default tolerance (half of recent answers).
            await Assert.ThrowsAsync<AmazonServiceException>(() => adaptive.CallAsync<int>("CreateTags", _ => throttled(), CancellationToken.None));
        }

        Assert.Equal(5, adaptive.Rates().Single(r => r.Bucket == "CreateTags").Rate);
        Assert.Equal(5, adaptive.Rates().Single(r => r.Bucket == Ec2CallLimits.MutatingBucket).Rate); // other buckets untouched

        var fixedRates = new Ec2CallPolicy(new Ec2CallLimits { MaxAttempts = 1, Adaptive = null }, new AgentMetrics(), Serilog.Core.Logger.None);
        await Assert.ThrowsAsync<AmazonServiceException>(() => fixedRates.CallAsync<int>("CreateTags", _ => throttled(), CancellationToken.None));
        Assert.Equal(10, fixedRates.Rates().Single(r => r.Bucket == "CreateTags").Rate);
    }

    [Fact]
    public void The_agent_metrics_show_each_bucket_rate()
    {
        var policy = new Ec2CallPolicy(new Ec2CallLimits(), new AgentMetrics(), Serilog.Core.Logger.None);
        var metrics = new AgentMetrics { Ec2Rates = policy.Rates };
        var text = metrics.Render();
        Assert.Contains("# TYPE branch_eni_ec2_rate_per_second gauge", text, StringComparison.Ordinal);
        Assert.Contains("branch_eni_ec2_rate_per_second{bucket=\"CreateNetworkInterface\"} 5\n", text, StringComparison.Ordinal);
        Assert.Contains("branch_eni_ec2_rate_per_second{bucket=\"describe\"} 20\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Ceilings_and_bursts_are_overridden_per_bucket_and_bad_entries_are_refused()
    {
        var limits = new Ec2CallLimits().WithOverrides("CreateNetworkInterface=2.5, describe=8", "describe=30", "QPS", "BURST");
        Assert.Equal((2.5, 100), limits.Buckets["CreateNetworkInterface"]);
        Assert.Equal((8d, 30), limits.Buckets[Ec2CallLimits.DescribeBucket]);
        Assert.Equal((5d, 50), limits.Buckets[Ec2CallLimits.MutatingBucket]);
        Assert.Contains("'CreateTag=1'", Assert.Throws<FormatException>(() => new Ec2CallLimits().WithOverrides("CreateTag=1", null, "QPS", "BURST")).Message, StringComparison.Ordinal);
        Assert.Contains("rate > 0", Assert.Throws<FormatException>(() => new Ec2CallLimits().WithOverrides("describe=0", null, "QPS", "BURST")).Message, StringComparison.Ordinal);
        Assert.StartsWith("BURST", Assert.Throws<FormatException>(() => new Ec2CallLimits().WithOverrides(null, "mutating=x", "QPS", "BURST")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Two_policies_sharing_a_small_account_bucket_in_the_sandbox_come_down_from_their_ceiling()
    {
        await using var world = await SandboxWorld.StartAsync(o => o.Throttling.CreateTags = new BucketSettings { Capacity = 1, RefillPerSecond = 5 });
        var limits = new Ec2CallLimits { BaseDelay = TimeSpan.FromMilliseconds(1), MaxAttempts = 100 };
        var policies = new[] { 0, 1 }.Select(_ => new Ec2CallPolicy(limits, new AgentMetrics(), Serilog.Core.Logger.None)).ToList();
        await Task.WhenAll(policies.Select((policy, p) => Task.Run(async () =>
        {
            for (var i = 0; i < 4; i++)
            {
                var request = new CreateTagsRequest { Resources = [world.InstanceId], Tags = [new Tag($"t{p}{i}", "v")] };
                await policy.CallAsync("CreateTags", ct => world.Ec2.CreateTagsAsync(request, ct), CancellationToken.None);
            }
        })));

        Assert.True(world.Host.Admin.CallCounts["CreateTags"].Throttled > 0);
        Assert.All(policies, p => Assert.InRange(p.Rates().Single(r => r.Bucket == "CreateTags").Rate, 0.05, 9.99));
    }
}
