using System.Diagnostics;

namespace BranchEni.Aws;

/// <summary>
/// A token bucket (capacity = burst, refilled at <see cref="Rate"/> tokens per second), the model EC2 itself throttles
/// with. <see cref="TakeAsync"/> waits until a token is there; callers queue in arrival order through the gate.
/// </summary>
/// <remarks>
/// Hand-written rather than System.Threading.RateLimiting's TokenBucketRateLimiter because AIMD
/// (<see cref="AdaptiveRate"/>) changes the refill rate and empties the tokens at run time, and that limiter's
/// options (TokensPerPeriod, ReplenishmentPeriod) are fixed when it is constructed; it also replenishes on a timer in
/// whole periods, where a continuous refill is what EC2's buckets model and what an injected clock can test.
/// </remarks>
public sealed class TokenBucket
{
    private readonly double _capacity;
    private readonly double _jitter;
    private readonly Func<long> _now;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Lock _lock = new();
    private double _rate;
    private double _tokens;
    private long _last;

    /// <param name="ratePerSecond">Refill, tokens per second.</param>
    /// <param name="burst">Capacity; the bucket starts full.</param>
    /// <param name="timestamp">The clock (Stopwatch ticks); tests inject one.</param>
    /// <param name="jitter">Each wait is stretched by a uniform fraction in [0, jitter], so that clients throttled
    /// together do not call again in lockstep. Costs no throughput while saturated: the refill keeps running during the
    /// extra wait, so the next wait is that much shorter.</param>
    public TokenBucket(double ratePerSecond, int burst, Func<long>? timestamp = null, double jitter = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ratePerSecond);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(burst);
        ArgumentOutOfRangeException.ThrowIfNegative(jitter);
        _rate = ratePerSecond;
        _capacity = burst;
        _tokens = burst;
        _jitter = jitter;
        _now = timestamp ?? Stopwatch.GetTimestamp;
        _last = _now();
    }

    /// <summary>The refill rate, tokens per second.</summary>
    public double Rate
    {
        get
        {
            lock (_lock)
            {
                return _rate;
            }
        }
    }

    /// <summary>Changes the refill rate from now on (what was refilled so far at the old rate stays).</summary>
    public void SetRate(double ratePerSecond)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ratePerSecond);
        lock (_lock)
        {
            Refill();
            _rate = ratePerSecond;
        }
    }

    /// <summary>Drops every token: the next take waits a full refill interval.</summary>
    public void Empty()
    {
        lock (_lock)
        {
            Refill();
            _tokens = Math.Min(_tokens, 0);
        }
    }

    /// <summary>The longest one sleep of <see cref="TakeAsync"/> before it looks at the bucket again.</summary>
    public static readonly TimeSpan LookAgainAfter = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Takes one token, waiting as long as the refill needs. Returns how long it waited. A long wait is slept in slices
    /// of at most <see cref="LookAgainAfter"/>, calling <paramref name="waiting"/> after each: the rate may change
    /// meanwhile (AIMD grows it while a caller waits), and a wait worked out at a rate that was just cut to its floor
    /// (20 s for one token at 0.05/s) must not outlast the cut.
    /// </summary>
    public async Task<TimeSpan> TakeAsync(CancellationToken cancellationToken, Action? waiting = null)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var waited = TimeSpan.Zero;
            while (true)
            {
                var delay = TryTake();
                if (delay is null)
                {
                    return waited;
                }

                // Whole milliseconds, at least one: Task.Delay truncates to milliseconds, and a wait of 0.3 ms would
                // complete at once and spin here until the refill caught up.
                var slice = delay.Value < LookAgainAfter ? TimeSpan.FromMilliseconds(Math.Ceiling(delay.Value.TotalMilliseconds)) : LookAgainAfter;
                var stretched = _jitter > 0 ? slice * (1 + (Random.Shared.NextDouble() * _jitter)) : slice;
                waited += stretched;
                await Task.Delay(stretched, cancellationToken).ConfigureAwait(false);
                waiting?.Invoke();
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Takes a token now (null) or says how long until one is there.</summary>
    public TimeSpan? TryTake()
    {
        lock (_lock)
        {
            Refill();
            if (_tokens >= 1)
            {
                _tokens -= 1;
                return null;
            }

            return TimeSpan.FromSeconds((1 - _tokens) / _rate);
        }
    }

    private void Refill()
    {
        var now = _now();
        _tokens = Math.Min(_capacity, _tokens + (Stopwatch.GetElapsedTime(_last, now).TotalSeconds * _rate));
        _last = now;
    }
}
