namespace BranchEni.Aws;

/// <summary>
/// The smoothed share of one process's recent EC2 answers that were throttles, 0..1: an exponential average over
/// roughly 1/<see cref="AdaptiveSettings.ShareSmoothing"/> answers of every action. One <see cref="Ec2CallPolicy"/>
/// keeps one, and each of its buckets' <see cref="AdaptiveRate"/> reads it.
/// </summary>
/// <remarks>
/// Why one share for all actions rather than one per bucket: a throttle is evidence about the account, and each answer
/// of any action is a sample of it, so one share has twice the samples of a per-action share on a node that creates and
/// associates (an old storm is forgotten in half the answers), and one action's unlucky calls do not hold its bucket
/// near the tolerance on their own. Measured in the cluster soak (docs/benchmarks.md): 1.05-1.20x the token-bucket
/// floor over six runs (mean 1.11x) against 1.05-1.25x over seven with per-bucket shares (mean 1.16x), for 45.1-45.9% of
/// calls throttled against 43.8-44.5%. An action the account throttles on its own still cuts, later: its retries are
/// answers too, so with one other call per success of it (a creation for each association) that all succeed, the share
/// passes one half once more than two of its calls in three are throttled. Cuts stay per bucket: only the bucket of a
/// throttled call is cut (<see cref="AdaptiveRate.Throttled"/>).
/// </remarks>
public sealed class ThrottleShare(double smoothing)
{
    private readonly Lock _lock = new();
    private double _value;

    public double Value
    {
        get
        {
            lock (_lock)
            {
                return _value;
            }
        }
    }

    /// <summary>Counts a throttle; returns the share after it.</summary>
    public double Throttled()
    {
        lock (_lock)
        {
            return _value += smoothing * (1 - _value);
        }
    }

    /// <summary>Counts an answer that was not a throttle.</summary>
    public void Succeeded()
    {
        lock (_lock)
        {
            _value *= 1 - smoothing;
        }
    }
}
