using System.Diagnostics;

namespace BranchEni.Sandbox.Ec2.Throttling;

/// <summary>
/// EC2's request-token bucket: it holds at most <see cref="Capacity"/> tokens, each call takes one, and tokens
/// come back at <see cref="RefillPerSecond"/> (fractional refill accrues between calls).
/// </summary>
internal sealed class TokenBucket(double capacity, double refillPerSecond)
{
    private readonly Lock _gate = new();
    private double _tokens = capacity;
    private long _stamp = Stopwatch.GetTimestamp();

    public double Capacity { get; private set; } = capacity;
    public double RefillPerSecond { get; private set; } = refillPerSecond;

    public bool TryTake()
    {
        lock (_gate)
        {
            Refill();
            if (_tokens < 1)
            {
                return false;
            }

            _tokens -= 1;
            return true;
        }
    }

    /// <summary>Changes the limits and fills the bucket, as a fresh account would start.</summary>
    public void Reconfigure(double capacity, double refillPerSecond)
    {
        lock (_gate)
        {
            Capacity = capacity;
            RefillPerSecond = refillPerSecond;
            _tokens = capacity;
            _stamp = Stopwatch.GetTimestamp();
        }
    }

    /// <summary>Empties the bucket (the admin endpoint's "throttle burst" uses this to mimic a noisy neighbour).</summary>
    public void Drain()
    {
        lock (_gate)
        {
            _tokens = 0;
            _stamp = Stopwatch.GetTimestamp();
        }
    }

    private void Refill()
    {
        var now = Stopwatch.GetTimestamp();
        _tokens = Math.Min(Capacity, _tokens + (Stopwatch.GetElapsedTime(_stamp, now).TotalSeconds * RefillPerSecond));
        _stamp = now;
    }
}
