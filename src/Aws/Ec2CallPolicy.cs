using System.Net;
using Amazon.Runtime;
using Serilog;

namespace BranchEni.Aws;

/// <summary>Where <see cref="Ec2CallPolicy"/> counts its calls (the agent's and the controller's /metrics).</summary>
public interface IEc2CallMetrics
{
    /// <summary>One attempt of an action ended: "success", "throttled", "server-error", "transport" or "error".</summary>
    void Ec2Call(string action, string outcome);

    void Ec2Throttled(string action);

    void Ec2Retry();
}

/// <summary>Limits of the client-side discipline; defaults follow EC2's documented per-account buckets.</summary>
public sealed record Ec2CallLimits
{
    /// <summary>Per action bucket (refill per second, burst), DESIGN.md §5.</summary>
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

    public int MaxAttempts { get; init; } = 8;

    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(10);

    public const string MutatingBucket = "mutating";
    public const string DescribeBucket = "describe";
}

/// <summary>
/// Every EC2 call goes through here: take a token from the action's bucket (and the node-wide one), call, and on
/// RequestLimitExceeded, a 5xx or a transport failure wait a jittered exponential delay ("full jitter") and try
/// again, at most <see cref="Ec2CallLimits.MaxAttempts"/> times. Outcomes are counted per action. The SDK's own
/// retries are off (MaxErrorRetry 0) so every attempt passes the bucket and is counted once.
/// </summary>
public sealed class Ec2CallPolicy
{
    private readonly Ec2CallLimits _limits;
    private readonly IEc2CallMetrics _metrics;
    private readonly ILogger _log;
    private readonly Dictionary<string, TokenBucket> _buckets;
    private readonly TokenBucket? _nodeWide;

    public Ec2CallPolicy(Ec2CallLimits limits, IEc2CallMetrics metrics, ILogger log)
    {
        _limits = limits;
        _metrics = metrics;
        _log = log;
        _buckets = limits.Buckets.ToDictionary(p => p.Key, p => new TokenBucket(p.Value.Rate, p.Value.Burst), StringComparer.Ordinal);
        _nodeWide = limits.NodeWide is { } n ? new TokenBucket(n.Rate, n.Burst) : null;
    }

    public async Task<T> CallAsync<T>(string action, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            await TakeTokensAsync(action, cancellationToken).ConfigureAwait(false);
            try
            {
                var result = await call(cancellationToken).ConfigureAwait(false);
                _metrics.Ec2Call(action, "success");
                return result;
            }
            catch (Exception e) when (Classify(e) is { } kind && !cancellationToken.IsCancellationRequested)
            {
                _metrics.Ec2Call(action, kind);
                if (kind == "throttled")
                {
                    _metrics.Ec2Throttled(action);
                }

                if (attempt >= _limits.MaxAttempts)
                {
                    _log.Warning("EC2 {Action} failed after {Attempts} attempts: {Error}", action, attempt, e.Message);
                    throw;
                }

                var delay = Backoff(attempt);
                _metrics.Ec2Retry();
                _log.Debug("EC2 {Action} {Kind} (attempt {Attempt}); retrying in {DelayMs} ms", action, kind, attempt, (int)delay.TotalMilliseconds);
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            }
            catch (AmazonServiceException e)
            {
                _metrics.Ec2Call(action, "error");
                _log.Debug("EC2 {Action} refused: {Code} {Error}", action, e.ErrorCode, e.Message);
                throw;
            }
        }
    }

    /// <summary>Full jitter: uniform in [0, min(max, base * 2^(attempt-1))].</summary>
    public TimeSpan Backoff(int attempt)
    {
        var ceiling = Math.Min(_limits.MaxDelay.TotalMilliseconds, _limits.BaseDelay.TotalMilliseconds * Math.Pow(2, attempt - 1));
        return TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * ceiling);
    }

    /// <summary>"throttled", "server-error", "transport" for what is retried; null for everything else.</summary>
    public static string? Classify(Exception e) => e switch
    {
        AmazonServiceException { ErrorCode: "RequestLimitExceeded" or "Throttling" } => "throttled",
        AmazonServiceException s when (int)s.StatusCode >= 500 => "server-error",
        AmazonServiceException => null,
        HttpRequestException or TaskCanceledException or IOException => "transport",
        AmazonClientException { InnerException: HttpRequestException or IOException } => "transport",
        _ => null,
    };

    public static string BucketFor(string action) => action switch
    {
        "CreateNetworkInterface" or "DeleteNetworkInterface" or "CreateTags" => action,
        _ when action.StartsWith("Describe", StringComparison.Ordinal) => Ec2CallLimits.DescribeBucket,
        _ => Ec2CallLimits.MutatingBucket,
    };

    private async Task TakeTokensAsync(string action, CancellationToken cancellationToken)
    {
        if (_nodeWide is not null)
        {
            await _nodeWide.TakeAsync(cancellationToken).ConfigureAwait(false);
        }

        if (_buckets.TryGetValue(BucketFor(action), out var bucket))
        {
            await bucket.TakeAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public static bool IsNotFound(AmazonServiceException e) =>
        e.StatusCode == HttpStatusCode.NotFound || e.ErrorCode.EndsWith(".NotFound", StringComparison.Ordinal);
}
