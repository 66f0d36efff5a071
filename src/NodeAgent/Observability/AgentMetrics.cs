using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace BranchEni.Agent.Observability;

/// <summary>
/// The agent's counters, gauges and one histogram, rendered as Prometheus text (exposition format 0.0.4). Small and
/// dependency-free on purpose: the agent exports a handful of series.
/// </summary>
internal sealed class AgentMetrics : IEc2CallMetrics
{
    /// <summary>Seconds from a pod first seen to annotated.</summary>
    internal static readonly double[] LatencyBuckets = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

    private readonly ConcurrentDictionary<(string Action, string Outcome), long> _ec2Calls = new();
    private readonly ConcurrentDictionary<string, long> _throttles = new(StringComparer.Ordinal);
    private readonly long[] _latencyCounts = new long[LatencyBuckets.Length + 1];
    private readonly Lock _latencyLock = new();
    private double _latencySum;
    private long _latencyCount;
    private long _retries;

    /// <summary>Read when rendering: branch ENIs in use and free VLANs (set once the trunk is known).</summary>
    public Func<int>? BranchesInUse { get; set; }

    public Func<int>? FreeVlans { get; set; }

    /// <summary>Read when rendering: each EC2 action bucket's local refill rate (AIMD moves it).</summary>
    public Func<IReadOnlyList<(string Bucket, double Rate)>>? Ec2Rates { get; set; }

    public void Ec2Call(string action, string outcome) => _ec2Calls.AddOrUpdate((action, outcome), 1, (_, n) => n + 1);

    public void Ec2Throttled(string action) => _throttles.AddOrUpdate(action, 1, (_, n) => n + 1);

    public void Ec2Retry() => Interlocked.Increment(ref _retries);

    public long Ec2Calls(string action, string outcome) => _ec2Calls.TryGetValue((action, outcome), out var n) ? n : 0;

    public long Throttles => _throttles.Values.Sum();

    public long Retries => Interlocked.Read(ref _retries);

    public long AnnotatedPods
    {
        get
        {
            lock (_latencyLock)
            {
                return _latencyCount;
            }
        }
    }

    public void ObservePodAnnotated(TimeSpan latency)
    {
        var seconds = latency.TotalSeconds;
        lock (_latencyLock)
        {
            var bucket = Array.FindIndex(LatencyBuckets, b => seconds <= b);
            _latencyCounts[bucket < 0 ? LatencyBuckets.Length : bucket]++;
            _latencySum += seconds;
            _latencyCount++;
        }
    }

    public string Render()
    {
        var text = new StringBuilder();
        Gauge(text, "branch_eni_branches_in_use", "Branch ENIs associated to this node's trunk.", BranchesInUse?.Invoke());
        Gauge(text, "branch_eni_free_vlans", "VLAN ids still free on the trunk.", FreeVlans?.Invoke());
        text.Append("# HELP branch_eni_ec2_calls_total EC2 calls by action and outcome.\n# TYPE branch_eni_ec2_calls_total counter\n");
        foreach (var ((action, outcome), count) in _ec2Calls.OrderBy(p => p.Key.Action, StringComparer.Ordinal).ThenBy(p => p.Key.Outcome, StringComparer.Ordinal))
        {
            text.Append(Invariant($"branch_eni_ec2_calls_total{{action=\"{action}\",outcome=\"{outcome}\"}} {count}\n"));
        }

        text.Append("# HELP branch_eni_ec2_throttles_total EC2 answers RequestLimitExceeded, by action.\n# TYPE branch_eni_ec2_throttles_total counter\n");
        foreach (var (action, count) in _throttles.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            text.Append(Invariant($"branch_eni_ec2_throttles_total{{action=\"{action}\"}} {count}\n"));
        }

        if (Ec2Rates?.Invoke() is { } rates)
        {
            text.Append("# HELP branch_eni_ec2_rate_per_second Local refill rate of each EC2 action bucket (AIMD: cut on throttling, grown on success).\n# TYPE branch_eni_ec2_rate_per_second gauge\n");
            foreach (var (bucket, rate) in rates)
            {
                text.Append(Invariant($"branch_eni_ec2_rate_per_second{{bucket=\"{bucket}\"}} {rate:0.####}\n"));
            }
        }

        text.Append(Invariant($"# HELP branch_eni_ec2_retries_total EC2 calls retried after throttling or a server error.\n# TYPE branch_eni_ec2_retries_total counter\nbranch_eni_ec2_retries_total {Retries}\n"));
        RenderHistogram(text);
        return text.ToString();
    }

    private void RenderHistogram(StringBuilder text)
    {
        const string name = "branch_eni_pod_annotate_seconds";
        text.Append(Invariant($"# HELP {name} Time from a branch pod first seen to its annotation written.\n# TYPE {name} histogram\n"));
        lock (_latencyLock)
        {
            long cumulative = 0;
            for (var i = 0; i < LatencyBuckets.Length; i++)
            {
                cumulative += _latencyCounts[i];
                text.Append(Invariant($"{name}_bucket{{le=\"{LatencyBuckets[i]}\"}} {cumulative}\n"));
            }

            cumulative += _latencyCounts[LatencyBuckets.Length];
            text.Append(Invariant($"{name}_bucket{{le=\"+Inf\"}} {cumulative}\n{name}_sum {_latencySum}\n{name}_count {_latencyCount}\n"));
        }
    }

    private static void Gauge(StringBuilder text, string name, string help, int? value)
    {
        if (value is { } v)
        {
            text.Append(Invariant($"# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}\n"));
        }
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
