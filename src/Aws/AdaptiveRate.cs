using System.Diagnostics;

namespace BranchEni.Aws;

/// <summary>
/// AIMD over one action's <see cref="TokenBucket"/>, so agents that share an account's EC2 bucket without a coordinator
/// converge near its refill rate: the local rate starts at the ceiling; a throttled answer halves it (at most once per
/// <see cref="AdaptiveSettings.CutWindow"/>: a storm of in-flight throttles is one signal, as TCP cuts once per round
/// trip) down to a floor, and empties the local bucket so the burst stops at once; every second of success adds
/// <see cref="AdaptiveSettings.IncreaseFraction"/> of the ceiling, up to the ceiling.
/// </summary>
public sealed class AdaptiveRate
{
    private readonly TokenBucket _bucket;
    private readonly AdaptiveSettings _settings;
    private readonly Func<long> _now;
    private readonly Lock _lock = new();
    private long _lastGrowth;
    private long? _lastCut;

    public AdaptiveRate(TokenBucket bucket, double ceiling, AdaptiveSettings settings, Func<long>? timestamp = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ceiling);
        _bucket = bucket;
        Ceiling = ceiling;
        _settings = settings;
        _now = timestamp ?? Stopwatch.GetTimestamp;
        _lastGrowth = _now();
    }

    public double Ceiling { get; }

    /// <summary>The local refill rate now, tokens per second.</summary>
    public double Rate => _bucket.Rate;

    /// <summary>A call was throttled: cut (unless cut within the window) and empty the bucket. Returns the
    /// (old, new) rate when this throttle cut it, null when an earlier one of the same storm already had.</summary>
    public (double From, double To)? Throttled()
    {
        lock (_lock)
        {
            var now = _now();
            _bucket.Empty();
            _lastGrowth = now;
            if (_lastCut is { } last && Stopwatch.GetElapsedTime(last, now) < _settings.CutWindow)
            {
                return null;
            }

            _lastCut = now;
            var from = _bucket.Rate;
            var to = Math.Max(Math.Min(_settings.Floor, Ceiling), from * _settings.DecreaseFactor);
            _bucket.SetRate(to);
            return (from, to);
        }
    }

    /// <summary>A call succeeded: grow by the time since the last growth or cut, capped at the ceiling. That time counts
    /// at most one second: a slow agent's one success after a long wait (or after idling) is one second of evidence, not
    /// a jump back to the ceiling into the storm it just left.</summary>
    public void Succeeded()
    {
        lock (_lock)
        {
            var now = _now();
            var seconds = Math.Min(1, Stopwatch.GetElapsedTime(_lastGrowth, now).TotalSeconds);
            _lastGrowth = now;
            var rate = _bucket.Rate;
            if (rate < Ceiling)
            {
                _bucket.SetRate(Math.Min(Ceiling, rate + (Ceiling * _settings.IncreaseFraction * seconds)));
            }
        }
    }
}

/// <summary>AIMD's constants; see <see cref="Ec2CallLimits.Adaptive"/> for why these defaults.</summary>
public sealed record AdaptiveSettings
{
    /// <summary>The rate a cut never goes below, tokens per second: one call every 20 s still probes for recovery.</summary>
    public double Floor { get; init; } = 0.05;

    public double DecreaseFactor { get; init; } = 0.5;

    /// <summary>Fraction of the ceiling added per second of success.</summary>
    public double IncreaseFraction { get; init; } = 1.0 / 10;

    public TimeSpan CutWindow { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Each bucket wait is stretched by up to this fraction (see <see cref="TokenBucket"/>).</summary>
    public double WaitJitter { get; init; } = 0.25;
}
