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

/// <summary>
/// Every EC2 call goes through here: take a token from the action's bucket (and the node-wide one), call, and on
/// RequestLimitExceeded, a 5xx or a transport failure wait a jittered exponential delay ("full jitter") and try
/// again, at most <see cref="Ec2CallLimits.MaxAttempts"/> times. Outcomes are counted per action. The SDK's own
/// retries are off (MaxErrorRetry 0) so every attempt passes the bucket and is counted once. With
/// <see cref="Ec2CallLimits.Adaptive"/> each action bucket's rate follows EC2's answers (<see cref="AdaptiveRate"/>), judged
/// by one throttle share over the answers of every action (<see cref="ThrottleShare"/>).
/// </summary>
public sealed class Ec2CallPolicy
{
    private readonly Ec2CallLimits _limits;
    private readonly IEc2CallMetrics _metrics;
    private readonly ILogger _log;
    private readonly Dictionary<string, TokenBucket> _buckets;
    private readonly Dictionary<string, AdaptiveRate> _adaptive;
    private readonly TokenBucket? _nodeWide;

    public Ec2CallPolicy(Ec2CallLimits limits, IEc2CallMetrics metrics, ILogger log)
    {
        _limits = limits;
        _metrics = metrics;
        _log = log;
        var jitter = limits.Adaptive?.WaitJitter ?? 0;
        _buckets = limits.Buckets.ToDictionary(p => p.Key, p => new TokenBucket(p.Value.Rate, p.Value.Burst, jitter: jitter), StringComparer.Ordinal);
        if (limits.Adaptive is { } settings)
        {
            var share = new ThrottleShare(settings.ShareSmoothing);
            _adaptive = _buckets.ToDictionary(p => p.Key, p => new AdaptiveRate(p.Value, limits.Buckets[p.Key].Rate, settings, share: share), StringComparer.Ordinal);
        }
        else
        {
            _adaptive = new Dictionary<string, AdaptiveRate>(StringComparer.Ordinal);
        }

        _nodeWide = limits.NodeWide is { } n ? new TokenBucket(n.Rate, n.Burst) : null;
    }

    /// <summary>Each action bucket's local refill rate now (AIMD moves it; fixed otherwise), by bucket name.</summary>
    public IReadOnlyList<(string Bucket, double Rate)> Rates() =>
        [.. _buckets.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => (p.Key, p.Value.Rate))];

    public async Task<T> CallAsync<T>(string action, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            await TakeTokensAsync(action, cancellationToken).ConfigureAwait(false);
            try
            {
                var result = await call(cancellationToken).ConfigureAwait(false);
                _metrics.Ec2Call(action, "success");
                Adaptive(action)?.Succeeded();
                return result;
            }
            catch (Exception e) when (Classify(e) is { } kind && !cancellationToken.IsCancellationRequested)
            {
                _metrics.Ec2Call(action, kind);
                if (kind == "throttled")
                {
                    _metrics.Ec2Throttled(action);
                    Cut(action);
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

    private AdaptiveRate? Adaptive(string action) => _adaptive.GetValueOrDefault(BucketFor(action));

    private void Cut(string action)
    {
        if (Adaptive(action)?.Throttled() is var (from, to))
        {
            _log.Debug("EC2 {Action} throttled: local {Bucket} rate {From:0.###} -> {To:0.###}/s", action, BucketFor(action), from, to);
        }
    }

    private async Task TakeTokensAsync(string action, CancellationToken cancellationToken)
    {
        if (_nodeWide is not null)
        {
            await _nodeWide.TakeAsync(cancellationToken).ConfigureAwait(false);
        }

        if (_buckets.TryGetValue(BucketFor(action), out var bucket))
        {
            await bucket.TakeAsync(cancellationToken, Adaptive(action) is { } adaptive ? adaptive.Waiting : null).ConfigureAwait(false);
        }
    }

    public static bool IsNotFound(AmazonServiceException e) =>
        e.StatusCode == HttpStatusCode.NotFound || e.ErrorCode.EndsWith(".NotFound", StringComparison.Ordinal);
}
