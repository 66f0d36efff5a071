using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using BranchEni.Aws;

namespace BranchEni.Controller.Observability;

/// <summary>
/// The controller's series as Prometheus text (exposition format 0.0.4), in the agent's dependency-free style
/// (src/NodeAgent/Observability/AgentMetrics.cs): admissions by webhook and verdict, admission latency by webhook,
/// leadership, cache sync, the serving certificate's remaining life, EC2 calls (security-group membership) and
/// companion NetworkPolicy writes.
/// </summary>
internal sealed class ControllerMetrics : IEc2CallMetrics
{
    internal static readonly double[] LatencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

    private readonly ConcurrentDictionary<(string Webhook, string Verdict), long> _admissions = new();
    private readonly ConcurrentDictionary<string, Histogram> _latency = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Action, string Outcome), long> _ec2Calls = new();
    private readonly ConcurrentDictionary<string, long> _companionWrites = new(StringComparer.Ordinal);

    public Func<bool>? IsLeader { get; set; }

    public Func<bool>? CachesSynced { get; set; }

    public Func<double?>? CertificateSecondsToExpiry { get; set; }

    public void Admission(string webhook, string verdict, TimeSpan latency)
    {
        _admissions.AddOrUpdate((webhook, verdict), 1, (_, n) => n + 1);
        _latency.GetOrAdd(webhook, _ => new Histogram()).Observe(latency.TotalSeconds);
    }

    public void Ec2Call(string action, string outcome) => _ec2Calls.AddOrUpdate((action, outcome), 1, (_, n) => n + 1);

    // Throttles and retries are already visible as ec2 call outcomes; the agent's separate series are not repeated here.
    public void Ec2Throttled(string action)
    {
    }

    public void Ec2Retry()
    {
    }

    /// <summary>A companion NetworkPolicy was created, updated or deleted.</summary>
    public void CompanionWrite(string verb) => _companionWrites.AddOrUpdate(verb, 1, (_, n) => n + 1);

    public long CompanionWrites(string verb) => _companionWrites.TryGetValue(verb, out var n) ? n : 0;

    public long Ec2Calls(string action, string outcome) => _ec2Calls.TryGetValue((action, outcome), out var n) ? n : 0;

    public long Admissions(string webhook, string verdict) => _admissions.TryGetValue((webhook, verdict), out var n) ? n : 0;

    public string Render()
    {
        var text = new StringBuilder();
        Gauge(text, "branch_eni_controller_leader", "1 while this replica holds the controller Lease.", IsLeader?.Invoke() is { } l ? (l ? 1 : 0) : null);
        Gauge(text, "branch_eni_controller_caches_synced", "1 once the policy and service account caches have listed.", CachesSynced?.Invoke() is { } s ? (s ? 1 : 0) : null);
        Gauge(text, "branch_eni_controller_certificate_expiry_seconds", "Seconds until the served webhook certificate expires.", CertificateSecondsToExpiry?.Invoke());
        text.Append("# HELP branch_eni_controller_admissions_total Admission reviews answered, by webhook and verdict (allowed, patched, denied, error).\n");
        text.Append("# TYPE branch_eni_controller_admissions_total counter\n");
        foreach (var ((webhook, verdict), count) in _admissions.OrderBy(p => p.Key.Webhook, StringComparer.Ordinal).ThenBy(p => p.Key.Verdict, StringComparer.Ordinal))
        {
            text.Append(Invariant($"branch_eni_controller_admissions_total{{webhook=\"{webhook}\",verdict=\"{verdict}\"}} {count}\n"));
        }

        Counter(text, "branch_eni_controller_ec2_calls_total", "EC2 call attempts for security-group membership, by action and outcome.",
            _ec2Calls.Select(p => ($"action=\"{p.Key.Action}\",outcome=\"{p.Key.Outcome}\"", p.Value)));
        Counter(text, "branch_eni_controller_companion_writes_total", "Companion NetworkPolicy writes, by verb (create, update, delete).",
            _companionWrites.Select(p => ($"verb=\"{p.Key}\"", p.Value)));

        const string name = "branch_eni_controller_admission_seconds";
        text.Append(Invariant($"# HELP {name} Time to answer an admission review, by webhook.\n# TYPE {name} histogram\n"));
        foreach (var (webhook, histogram) in _latency.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            histogram.Render(text, name, $"webhook=\"{webhook}\"");
        }

        return text.ToString();
    }

    private static void Counter(StringBuilder text, string name, string help, IEnumerable<(string Labels, long Value)> series)
    {
        text.Append(Invariant($"# HELP {name} {help}\n# TYPE {name} counter\n"));
        foreach (var (labels, value) in series.OrderBy(s => s.Labels, StringComparer.Ordinal))
        {
            text.Append(Invariant($"{name}{{{labels}}} {value}\n"));
        }
    }

    private static void Gauge(StringBuilder text, string name, string help, double? value)
    {
        if (value is { } v)
        {
            text.Append(Invariant($"# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}\n"));
        }
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    private sealed class Histogram
    {
        private readonly long[] _counts = new long[LatencyBuckets.Length + 1];
        private readonly Lock _lock = new();
        private double _sum;
        private long _count;

        public void Observe(double seconds)
        {
            lock (_lock)
            {
                var bucket = Array.FindIndex(LatencyBuckets, b => seconds <= b);
                _counts[bucket < 0 ? LatencyBuckets.Length : bucket]++;
                _sum += seconds;
                _count++;
            }
        }

        public void Render(StringBuilder text, string name, string labels)
        {
            lock (_lock)
            {
                long cumulative = 0;
                for (var i = 0; i < LatencyBuckets.Length; i++)
                {
                    cumulative += _counts[i];
                    text.Append(Invariant($"{name}_bucket{{{labels},le=\"{LatencyBuckets[i]}\"}} {cumulative}\n"));
                }

                cumulative += _counts[LatencyBuckets.Length];
                text.Append(Invariant($"{name}_bucket{{{labels},le=\"+Inf\"}} {cumulative}\n{name}_sum{{{labels}}} {_sum}\n{name}_count{{{labels}}} {_count}\n"));
            }
        }
    }
}
