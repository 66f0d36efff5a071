using System.Collections.Concurrent;
using BranchEni.Sandbox.Hosting;

namespace BranchEni.Sandbox.Ec2.Throttling;

/// <summary>The account's buckets per <see cref="ThrottleClass"/> plus forced throttle bursts from the admin endpoint.</summary>
internal sealed class Ec2Throttle
{
    private readonly Dictionary<ThrottleClass, TokenBucket> _buckets = [];
    private readonly ConcurrentDictionary<string, int> _burst = new(StringComparer.Ordinal);
    private volatile bool _enabled;

    public Ec2Throttle(ThrottleSettings settings)
    {
        foreach (var (cls, bucket) in Buckets(settings))
        {
            _buckets[cls] = new TokenBucket(bucket.Capacity, bucket.RefillPerSecond);
        }

        _enabled = settings.Enabled;
        Settings = settings;
    }

    public ThrottleSettings Settings { get; private set; }

    public void Reconfigure(ThrottleSettings settings)
    {
        foreach (var (cls, bucket) in Buckets(settings))
        {
            if (bucket.Capacity < 1 || bucket.RefillPerSecond < 0)
            {
                throw new ArgumentException($"{cls}: capacity must be at least 1 and refillPerSecond not negative");
            }
        }

        foreach (var (cls, bucket) in Buckets(settings))
        {
            _buckets[cls].Reconfigure(bucket.Capacity, bucket.RefillPerSecond);
        }

        _enabled = settings.Enabled;
        Settings = settings;
    }

    public void AddBurst(ThrottleBurst burst)
    {
        if (burst.Count < 0 || string.IsNullOrEmpty(burst.Action))
        {
            throw new ArgumentException("a throttle burst needs an action (or \"*\") and a count of at least 0");
        }

        _burst.AddOrUpdate(burst.Action, burst.Count, (_, n) => n + burst.Count);
    }

    /// <summary>True when the call may proceed; false means RequestLimitExceeded.</summary>
    public bool TryAcquire(string action, ThrottleClass cls)
    {
        if (TakeBurst(action) || TakeBurst("*"))
        {
            return false;
        }

        return !_enabled || _buckets[cls].TryTake();
    }

    private bool TakeBurst(string key)
    {
        while (_burst.TryGetValue(key, out var n) && n > 0)
        {
            if (_burst.TryUpdate(key, n - 1, n))
            {
                return true;
            }
        }

        return false;
    }

    private static IEnumerable<(ThrottleClass, BucketSettings)> Buckets(ThrottleSettings s) =>
    [
        (ThrottleClass.CreateNetworkInterface, s.CreateNetworkInterface),
        (ThrottleClass.DeleteNetworkInterface, s.DeleteNetworkInterface),
        (ThrottleClass.CreateTags, s.CreateTags),
        (ThrottleClass.Mutating, s.Mutating),
        (ThrottleClass.Describe, s.Describe),
        (ThrottleClass.UnfilteredDescribeNetworkInterfaces, s.UnfilteredDescribeNetworkInterfaces),
    ];
}
