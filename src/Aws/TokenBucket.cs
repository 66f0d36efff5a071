using System.Diagnostics;

namespace BranchEni.Aws;

/// <summary>
/// A token bucket (capacity = burst, refilled at <c>rate</c> tokens per second), the model EC2 itself throttles
/// with. <see cref="TakeAsync"/> waits until a token is there; callers queue in arrival order through the lock.
/// </summary>
public sealed class TokenBucket
{
    private readonly double _rate;
    private readonly double _capacity;
    private readonly Func<long> _now;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private double _tokens;
    private long _last;

    public TokenBucket(double ratePerSecond, int burst, Func<long>? timestamp = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ratePerSecond);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(burst);
        _rate = ratePerSecond;
        _capacity = burst;
        _tokens = burst;
        _now = timestamp ?? Stopwatch.GetTimestamp;
        _last = _now();
    }

    /// <summary>Takes one token, waiting as long as the refill needs. Returns how long it waited.</summary>
    public async Task<TimeSpan> TakeAsync(CancellationToken cancellationToken)
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

                waited += delay.Value;
                await Task.Delay(delay.Value, cancellationToken).ConfigureAwait(false);
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
        var now = _now();
        _tokens = Math.Min(_capacity, _tokens + (Stopwatch.GetElapsedTime(_last, now).TotalSeconds * _rate));
        _last = now;
        if (_tokens >= 1)
        {
            _tokens -= 1;
            return null;
        }

        return TimeSpan.FromSeconds((1 - _tokens) / _rate);
    }
}
