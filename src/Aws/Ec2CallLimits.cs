using System.Globalization;

namespace BranchEni.Aws;

/// <summary>Limits of the client-side discipline; defaults follow EC2's documented per-account buckets.</summary>
public sealed record Ec2CallLimits
{
    /// <summary>Per action bucket (refill per second, burst), DESIGN.md §5. With <see cref="Adaptive"/> the refill is
    /// the ceiling AIMD never exceeds.</summary>
    public IReadOnlyDictionary<string, (double Rate, int Burst)> Buckets { get; init; } = new Dictionary<string, (double, int)>(StringComparer.Ordinal)
    {
        ["CreateNetworkInterface"] = (5, 100),
        ["DeleteNetworkInterface"] = (5, 100),
        ["CreateTags"] = (10, 100),
        [MutatingBucket] = (5, 50),
        [DescribeBucket] = (20, 100),
    };

    /// <summary>An extra node-wide bucket over every call (BRANCH_ENI_EC2_QPS / _BURST); null: none.</summary>
    public (double Rate, int Burst)? NodeWide { get; init; }

    /// <summary>
    /// AIMD on each action bucket (BRANCH_ENI_EC2_ADAPTIVE, default on); null: fixed rates. The account's bucket is
    /// shared by every agent, so a fixed per-node rate at EC2's refill oversubscribes it N times. When a bucket's call is
    /// throttled while most of the process's recent answers (of every action, <see cref="ThrottleShare"/>) are throttles,
    /// that bucket's local rate is halved (once per 250 ms: the answers of one storm's in-flight calls
    /// arrive together) and the local bucket emptied; it grows back by each success, by each second busy, and faster
    /// the longer since the last cut (<see cref="AdaptiveRate"/>). Measured in the cluster soak (20 agents, 30% of
    /// calls throttled by others): cutting on every throttle collapsed busy agents (2.7-2.9x the token-bucket floor);
    /// growing only by seconds of success trapped agents cut below one call per second (1.40x); growing a tenth of the
    /// ceiling per second busy overran the account (1.07x, 47% of calls throttled).
    /// </summary>
    public AdaptiveSettings? Adaptive { get; init; } = new();

    public int MaxAttempts { get; init; } = 8;

    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(10);

    public const string MutatingBucket = "mutating";
    public const string DescribeBucket = "describe";

    /// <summary>The bucket names <see cref="WithOverrides"/> accepts.</summary>
    public static readonly IReadOnlyList<string> BucketNames =
        ["CreateNetworkInterface", "DeleteNetworkInterface", "CreateTags", MutatingBucket, DescribeBucket];

    /// <summary>
    /// These limits with per-bucket ceilings and bursts replaced: <paramref name="rates"/> and <paramref name="bursts"/>
    /// are comma-separated <c>bucket=value</c> lists (BRANCH_ENI_EC2_ACTION_QPS, BRANCH_ENI_EC2_ACTION_BURST), e.g.
    /// <c>CreateNetworkInterface=2,describe=10</c>. Throws <see cref="FormatException"/> naming the bad entry.
    /// </summary>
    public Ec2CallLimits WithOverrides(string? rates, string? bursts, string ratesName, string burstsName)
    {
        var buckets = new Dictionary<string, (double Rate, int Burst)>(Buckets, StringComparer.Ordinal);
        var defaults = new Ec2CallLimits().Buckets;
        foreach (var (bucket, text) in Entries(rates, ratesName))
        {
            var current = buckets.TryGetValue(bucket, out var b) ? b : defaults[bucket];
            buckets[bucket] = double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var rate) && rate > 0 && double.IsFinite(rate)
                ? (rate, current.Burst)
                : throw new FormatException($"{ratesName}: '{bucket}={text}' needs a rate > 0 (calls per second)");
        }

        foreach (var (bucket, text) in Entries(bursts, burstsName))
        {
            var current = buckets.TryGetValue(bucket, out var b) ? b : defaults[bucket];
            buckets[bucket] = int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var burst) && burst >= 1
                ? (current.Rate, burst)
                : throw new FormatException($"{burstsName}: '{bucket}={text}' needs a whole number >= 1");
        }

        return this with { Buckets = buckets };
    }

    private static IEnumerable<(string Bucket, string Value)> Entries(string? list, string name)
    {
        foreach (var entry in (list ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = entry.Split('=', 2, StringSplitOptions.TrimEntries);
            if (parts.Length != 2 || !BucketNames.Contains(parts[0], StringComparer.Ordinal))
            {
                throw new FormatException($"{name}: '{entry}' is not bucket=value with bucket one of {string.Join(", ", BucketNames)}");
            }

            yield return (parts[0], parts[1]);
        }
    }
}
