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
    // The cut mechanics on their own (a cut on any throttle); the tolerance has its own tests below. Growth as shipped:
    // a fiftieth of the ceiling per success, a twentieth per second busy, a hundredth more per second since the last cut.
    private static readonly AdaptiveSettings Settings = new()
    {
        Floor = 0.05, DecreaseFactor = 0.5, CutWindow = TimeSpan.FromMilliseconds(250), ThrottleTolerance = 0,
    };

    private long _now = 1;

    private (TokenBucket Bucket, AdaptiveRate Rate) Make(double ceiling = 10, int burst = 100, AdaptiveSettings? settings = null, ThrottleShare? share = null)
    {
        var bucket = new TokenBucket(ceiling, burst, () => _now);
        return (bucket, new AdaptiveRate(bucket, ceiling, settings ?? Settings, () => _now, share));
    }

    /// <summary>One call of <paramref name="action"/> through <paramref name="policy"/>, answered RequestLimitExceeded.</summary>
    private static Task Throttle(Ec2CallPolicy policy, string action) =>
        Assert.ThrowsAsync<AmazonServiceException>(() => policy.CallAsync<int>(action,
            _ => throw new AmazonServiceException("slow down") { ErrorCode = "RequestLimitExceeded", StatusCode = HttpStatusCode.ServiceUnavailable },
            CancellationToken.None));

    private static double RateOf(Ec2CallPolicy policy, string bucket) => policy.Rates().Single(r => r.Bucket == bucket).Rate;

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
    public void A_bucket_that_takes_half_of_the_throttles_is_not_cut_while_the_node_answers_are_mostly_successes()
    {
        // The soak's slow node: its associations take every other throttle while its creations succeed. Judged by the
        // association bucket's own answers the share hovers at one half and cuts; judged by all the node's answers
        // (one creation per association) it stays near a third and never cuts.
        int Cuts(bool shared)
        {
            var share = new ThrottleShare(new AdaptiveSettings().ShareSmoothing);
            var (_, mutating) = Make(5, 50, new AdaptiveSettings(), shared ? share : null);
            var (_, create) = Make(5, 100, new AdaptiveSettings(), shared ? share : null);
            var cuts = 0;
            for (var i = 0; i < 60; i++)
            {
                Advance(0.5);
                cuts += i % 4 is 0 or 1 && mutating.Throttled() is not null ? 1 : 0; // T T S S: half throttled, in runs of two
                if (i % 4 is 2 or 3)
                {
                    mutating.Succeeded();
                    create.Succeeded();
                }
            }

            return cuts;
        }

        Assert.True(Cuts(shared: false) > 0);
        Assert.Equal(0, Cuts(shared: true));
    }

    [Fact]
    public void An_action_the_account_throttles_on_its_own_is_still_cut_through_the_shared_share()
    {
        // Three of four association calls throttled, every creation answered: 3 throttles in 5 answers is past one half.
        var share = new ThrottleShare(new AdaptiveSettings().ShareSmoothing);
        var (_, mutating) = Make(5, 50, new AdaptiveSettings(), share);
        var (_, create) = Make(5, 100, new AdaptiveSettings(), share);
        var cuts = 0;
        for (var i = 0; i < 40; i++)
        {
            Advance(0.5);
            if (i % 4 < 3)
            {
                cuts += mutating.Throttled() is null ? 0 : 1;
            }
            else
            {
                mutating.Succeeded();
                create.Succeeded();
            }
        }

        Assert.InRange(cuts, 3, 40);
        Assert.InRange(share.Value, 0.5, 1);
        Assert.Equal(5, create.Rate);
    }

    [Fact]
    public async Task The_policy_judges_each_bucket_by_the_throttles_of_every_action_and_cuts_only_the_throttled_one()
    {
        var policy = new Ec2CallPolicy(new Ec2CallLimits { MaxAttempts = 1 }, new AgentMetrics(), Serilog.Core.Logger.None);
        for (var i = 0; i < 6; i++)
        {
            // 1 - 0.9^6 = 0.47: six throttles in a row stay under the tolerance.
            await Throttle(policy, "CreateTags");
        }

        Assert.Equal(10, RateOf(policy, "CreateTags"));

        // One association throttled: the share over both actions passes one half, and the association's bucket is cut.
        await Throttle(policy, "AssociateTrunkInterface");
        Assert.Equal(2.5, RateOf(policy, Ec2CallLimits.MutatingBucket));
        Assert.Equal(10, RateOf(policy, "CreateTags"));
    }

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
    public void Growth_is_per_success_and_per_second_busy_and_faster_the_longer_since_the_last_cut()
    {
        var (_, rate) = Make();
        rate.Throttled(); // 10 -> 5
        Advance(1);
        rate.Succeeded(); // a success (0.02) and a second busy, one second after the cut (0.05 + 0.01 * 1)
        Assert.Equal(5.8, rate.Rate, 6);
        Advance(0.5);
        rate.Succeeded(); // 0.02 + 0.5 * (0.05 + 0.01 * 1.5)
        Assert.Equal(6.325, rate.Rate, 6);

        // A long quiet spell counts as one second, not as a jump back to the ceiling; the time since the cut counts up to
        // 30 s: 0.02 + 1 * (0.05 + 0.01 * 30).
        Advance(60);
        rate.Succeeded();
        Assert.Equal(10, rate.Rate, 6);
    }

    [Fact]
    public void Many_successes_in_a_second_grow_by_each_success_so_the_fleet_grows_with_the_accounts_answers()
    {
        // Ten successes within 0.1 s, right after a cut: almost all of the growth is the per-success term.
        var (_, rate) = Make();
        rate.Throttled(); // 10 -> 5
        for (var i = 0; i < 10; i++)
        {
            Advance(0.01);
            rate.Succeeded();
        }

        Assert.InRange(rate.Rate, 7.0, 7.06); // 10 * 0.02 * 10 = 2, and 0.1 s busy adds 10 * 0.1 * ~0.05 = 0.05
    }

    [Fact]
    public void A_caller_waiting_for_a_token_grows_the_rate_by_wall_time_even_from_the_floor()
    {
        // Cut to the floor: one token every 20 s. Growing only on answers, the next growth would come after that token.
        var (_, rate) = Make();
        for (var i = 0; i < 20; i++)
        {
            Advance(1);
            rate.Throttled();
        }

        Assert.Equal(0.05, rate.Rate);
        for (var i = 0; i < 8; i++)
        {
            Advance(0.25);
            rate.Waiting();
        }

        // Two seconds of waiting: 10 * (2 * 0.05 + 0.01 * 0.25 * (0.25 + 0.5 + ... + 2)) = 1.225 on top of the floor.
        Assert.Equal(1.275, rate.Rate, 6);
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
        var adaptive = new Ec2CallPolicy(new Ec2CallLimits { MaxAttempts = 1 }, new AgentMetrics(), Serilog.Core.Logger.None);
        for (var i = 0; i < 7; i++)
        {
            // Seven throttles in a row: past the default tolerance (half of recent answers).
            await Throttle(adaptive, "CreateTags");
        }

        Assert.Equal(5, RateOf(adaptive, "CreateTags"));
        Assert.Equal(5, RateOf(adaptive, Ec2CallLimits.MutatingBucket)); // other buckets untouched

        var fixedRates = new Ec2CallPolicy(new Ec2CallLimits { MaxAttempts = 1, Adaptive = null }, new AgentMetrics(), Serilog.Core.Logger.None);
        await Throttle(fixedRates, "CreateTags");
        Assert.Equal(10, RateOf(fixedRates, "CreateTags"));
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
        Assert.All(policies, p => Assert.InRange(RateOf(p, "CreateTags"), 0.05, 9.99));
    }
}
