namespace BranchEni.Sandbox.Hosting;

/// <summary>One token bucket: maximum burst and tokens regained per second.</summary>
public sealed class BucketSettings
{
    public double Capacity { get; set; }
    public double RefillPerSecond { get; set; }
}

/// <summary>EC2 request throttling per action class; the defaults are AWS's documented per-account values.</summary>
public sealed class ThrottleSettings
{
    public bool Enabled { get; set; } = true;
    public BucketSettings CreateNetworkInterface { get; set; } = new() { Capacity = 100, RefillPerSecond = 5 };
    public BucketSettings DeleteNetworkInterface { get; set; } = new() { Capacity = 100, RefillPerSecond = 5 };
    public BucketSettings CreateTags { get; set; } = new() { Capacity = 100, RefillPerSecond = 10 };

    /// <summary>Other mutating actions: attach, detach, modify, associate, disassociate, permissions, DeleteTags.</summary>
    public BucketSettings Mutating { get; set; } = new() { Capacity = 50, RefillPerSecond = 5 };

    public BucketSettings Describe { get; set; } = new() { Capacity = 100, RefillPerSecond = 20 };

    /// <summary>DescribeNetworkInterfaces without filters, ids or MaxResults.</summary>
    public BucketSettings UnfilteredDescribeNetworkInterfaces { get; set; } = new() { Capacity = 50, RefillPerSecond = 10 };
}

/// <summary>The latency model: every call waits base + uniform jitter (milliseconds) before it is served.</summary>
public sealed class LatencySettings
{
    public int DescribeMilliseconds { get; set; } = 2;
    public int MutatingMilliseconds { get; set; } = 10;
    public int JitterMilliseconds { get; set; } = 5;
}

/// <summary>Faults for one action (or "*" for all): random errors and latency spikes.</summary>
public sealed class ActionFault
{
    /// <summary>Probability 0..1 that a call fails with <see cref="ErrorCode"/>.</summary>
    public double ErrorRate { get; set; }
    public string ErrorCode { get; set; } = "InternalError";
    public int HttpStatus { get; set; } = 500;
    public string Message { get; set; } = "An internal error has occurred";

    /// <summary>Probability 0..1 that a call waits an extra <see cref="LatencySpikeMilliseconds"/>.</summary>
    public double LatencySpikeRate { get; set; }
    public int LatencySpikeMilliseconds { get; set; }
}

/// <summary>Fault injection, keyed by action name ("CreateNetworkInterface") or "*".</summary>
public sealed class FaultSettings
{
    public Dictionary<string, ActionFault> Actions { get; set; } = [];
}

/// <summary>Forces the next <see cref="Count"/> calls of <see cref="Action"/> (or "*") to be throttled.</summary>
public sealed class ThrottleBurst
{
    public string Action { get; set; } = "*";
    public int Count { get; set; }
}
