using System.Diagnostics;

namespace BranchEni.Aws;

/// <summary>
/// AIMD over one action's <see cref="TokenBucket"/>, so agents that share an account's EC2 bucket without a coordinator
/// converge near its refill rate: the local rate starts at the ceiling and grows back towards it after a cut (see
/// <see cref="Grow"/>); when this bucket's call is throttled while the share of the process's recent answers that were
/// throttles (<see cref="Aws.ThrottleShare"/>, over every action) is above <see cref="AdaptiveSettings.ThrottleTolerance"/>,
/// the rate is cut (at most once per
/// <see cref="AdaptiveSettings.CutWindow"/>: a storm of in-flight throttles is one signal, as TCP cuts once per round
/// trip) down to a floor, and the local bucket is emptied so the burst stops at once.
/// </summary>
/// <remarks>
/// Why a tolerance instead of cutting on every throttle: a throttle does not say whose calls emptied the account's
/// bucket. Other clients of the account (or a noisy EC2) throttle some calls whatever this agent's rate, and halving on
/// each of them drives a busy agent towards the floor while the account sits idle (measured in the cluster soak, 30%
/// throttles injected: 2.7-2.9x the token-bucket floor, agents releasing branches long after their pods went). When
/// the agents themselves overrun the account, almost every call is throttled, the share passes the tolerance within a
/// few answers and they back off as before.
/// </remarks>
public sealed class AdaptiveRate
{
    private readonly TokenBucket _bucket;
    private readonly AdaptiveSettings _settings;
    private readonly Func<long> _now;
    private readonly Lock _lock = new();
    private readonly ThrottleShare _share;
    private readonly long _started;
    private long _lastGrowth;
    private long? _lastCut;

    /// <summary>AIMD over <paramref name="bucket"/>, never above <paramref name="ceiling"/>, judged by
    /// <paramref name="share"/>: the process's throttle share, shared with its other buckets (null: this bucket's own);
    /// <paramref name="timestamp"/> is the clock (Stopwatch ticks; tests inject one).</summary>
    public AdaptiveRate(TokenBucket bucket, double ceiling, AdaptiveSettings settings, Func<long>? timestamp = null, ThrottleShare? share = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ceiling);
        _bucket = bucket;
        Ceiling = ceiling;
        _settings = settings;
        _share = share ?? new ThrottleShare(settings.ShareSmoothing);
        _now = timestamp ?? Stopwatch.GetTimestamp;
        _started = _lastGrowth = _now();
    }

    public double Ceiling { get; }

    /// <summary>The local refill rate now, tokens per second.</summary>
    public double Rate => _bucket.Rate;

    /// <summary>The smoothed share of recent answers that were throttles, 0..1 (<see cref="Aws.ThrottleShare"/>).</summary>
    public double ThrottleShare => _share.Value;

    /// <summary>A call was throttled: when recent answers are mostly throttles, cut (unless cut within the window) and
    /// empty the bucket. Returns the (old, new) rate when this throttle cut it, null otherwise.</summary>
    public (double From, double To)? Throttled()
    {
        lock (_lock)
        {
            var share = _share.Throttled();
            var now = _now();
            if (share <= _settings.ThrottleTolerance)
            {
                // Tolerated: neither growth nor a cut; the call is retried after its backoff.
                return null;
            }

            _lastGrowth = now;
            if (_lastCut is { } last && Stopwatch.GetElapsedTime(last, now) < _settings.CutWindow)
            {
                return null;
            }

            _lastCut = now;
            _bucket.Empty();
            var from = _bucket.Rate;
            var to = Math.Max(Math.Min(_settings.Floor, Ceiling), from * _settings.DecreaseFactor);
            _bucket.SetRate(to);
            return (from, to);
        }
    }

    /// <summary>A call succeeded: grow (see <see cref="Grow"/>) and count the answer as not throttled.</summary>
    public void Succeeded()
    {
        lock (_lock)
        {
            _share.Succeeded();
            Grow(succeeded: true);
        }
    }

    /// <summary>A caller is waiting for this bucket's next token: the agent is busy, so the time counts towards growth
    /// (see <see cref="Grow"/>). Without it an agent cut to the floor (0.05/s) would sleep 20 s for one token before any
    /// growth: stuck for minutes while the account sits idle (seen in the soak: a node's associations stopped for 66 s).
    /// </summary>
    public void Waiting()
    {
        lock (_lock)
        {
            Grow(succeeded: false);
        }
    }

    /// <summary>
    /// Grows towards the ceiling by three terms, each a fraction of the ceiling:
    /// <list type="bullet">
    /// <item><see cref="AdaptiveSettings.IncreasePerSuccess"/> per success: the growth of all agents together is then
    /// bounded by the account's successes, whatever the number of agents (twenty agents each adding a tenth of the
    /// ceiling per second overran the account by half and had 47% of calls throttled);</item>
    /// <item><see cref="AdaptiveSettings.IncreasePerSecond"/> per second busy (a success or a wait), so a deep cut
    /// cannot trap an agent that gets too few answers to grow by them;</item>
    /// <item><see cref="AdaptiveSettings.Acceleration"/> more per second for every second since the last cut (up to
    /// <see cref="AdaptiveSettings.AccelerationLimit"/>): an agent that has not been cut for a while is probably not
    /// overrunning anyone, so it takes up the capacity other agents left sooner (the cluster's last pods are then not
    /// held back by a rate learnt while all agents were busy).</item>
    /// </list>
    /// The busy time counts at most one second per call: one success after idling is one second of evidence, not a jump
    /// back to the ceiling into the storm the agent left.
    /// </summary>
    private void Grow(bool succeeded)
    {
        var now = _now();
        var seconds = Math.Min(1, Stopwatch.GetElapsedTime(_lastGrowth, now).TotalSeconds);
        _lastGrowth = now;
        var rate = _bucket.Rate;
        if (rate >= Ceiling)
        {
            return;
        }

        var sinceCut = Math.Min(_settings.AccelerationLimit.TotalSeconds, Stopwatch.GetElapsedTime(_lastCut ?? _started, now).TotalSeconds);
        var fraction = (succeeded ? _settings.IncreasePerSuccess : 0) + (seconds * (_settings.IncreasePerSecond + (_settings.Acceleration * sinceCut)));
        _bucket.SetRate(Math.Min(Ceiling, rate + (Ceiling * fraction)));
    }
}

/// <summary>AIMD's constants; see <see cref="Ec2CallLimits.Adaptive"/> for why these defaults.</summary>
public sealed record AdaptiveSettings
{
    /// <summary>The rate a cut never goes below, tokens per second: one call every 20 s still probes for recovery.</summary>
    public double Floor { get; init; } = 0.05;

    /// <summary>A cut keeps this share of the rate. 0.7 was measured too (cluster soak): the same time to annotate
    /// (1.41x against 1.40x the floor), a faster release, but 41.5% of calls throttled against 35.9%.</summary>
    public double DecreaseFactor { get; init; } = 0.5;

    /// <summary>Fraction of the ceiling added per success.</summary>
    public double IncreasePerSuccess { get; init; } = 1.0 / 50;

    /// <summary>Fraction of the ceiling added per second busy (succeeding or waiting for a token). A fiftieth was measured
    /// too (cluster soak): 1.11-1.45x the floor, one run with a node held near half a call per second for its last
    /// minute by cuts it could not grow out of between them.</summary>
    public double IncreasePerSecond { get; init; } = 1.0 / 20;

    /// <summary>Fraction of the ceiling added per second busy, for every second since the last cut.</summary>
    public double Acceleration { get; init; } = 1.0 / 100;

    /// <summary>The time since the last cut that <see cref="Acceleration"/> counts at most.</summary>
    public TimeSpan AccelerationLimit { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan CutWindow { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Cut only while more than this share of recent answers are throttles (0: cut on any throttle).</summary>
    public double ThrottleTolerance { get; init; } = 0.5;

    /// <summary>How much one answer moves the throttle share (an exponential average over roughly 1/this answers of every
    /// action, <see cref="ThrottleShare"/>).</summary>
    public double ShareSmoothing { get; init; } = 0.1;

    /// <summary>Each bucket wait is stretched by up to this fraction (see <see cref="TokenBucket"/>).</summary>
    public double WaitJitter { get; init; } = 0.25;
}
