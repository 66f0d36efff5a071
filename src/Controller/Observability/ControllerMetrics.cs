using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using BranchEni.Aws;

namespace BranchEni.Controller.Observability;

/// <summary>
/// The controller's series as Prometheus text (exposition format 0.0.4), in the agent's dependency-free style
/// (src/NodeAgent/Observability/AgentMetrics.cs): admissions by webhook and verdict, admission latency by webhook,
/// leadership, cache sync, the serving certificate's remaining life, EC2 calls (security-group membership, ENI cleanup),
/// companion NetworkPolicy writes and the ENI cleanup's deletions.
/// </summary>
internal sealed class ControllerMetrics : IEc2CallMetrics
{
    internal static readonly double[] LatencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

    private readonly ConcurrentDictionary<(string Webhook, string Verdict), long> _admissions = new();
    private readonly ConcurrentDictionary<string, Histogram> _latency = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Action, string Outcome), long> _ec2Calls = new();
    private readonly ConcurrentDictionary<string, long> _companionWrites = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Kind, string Reason), long> _enisDeleted = new();
    private long _cleanupErrors;
    private volatile object? _cleanupSuspects; // a boxed int: a Nullable<long> field can be read torn

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

    /// <summary>The cleanup deleted an ENI of a kind (branch, trunk) for a reason (instance-gone, pod-gone).</summary>
    public void EniDeleted(string kind, string reason) => _enisDeleted.AddOrUpdate((kind, reason), 1, (_, n) => n + 1);

    public long EnisDeleted(string kind, string reason) => _enisDeleted.TryGetValue((kind, reason), out var n) ? n : 0;

    /// <summary>A cleanup pass or one of its deletes failed.</summary>
    public void CleanupError() => Interlocked.Increment(ref _cleanupErrors);

    public long CleanupErrors => Interlocked.Read(ref _cleanupErrors);

    /// <summary>ENIs the leader's cleanup has judged garbage and is waiting out the cooldown for.</summary>
    public void CleanupSuspects(int count) => _cleanupSuspects = count;

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

        Counter(text, "branch_eni_controller_ec2_calls_total", "EC2 call attempts (security-group membership, ENI cleanup), by action and outcome.",
            _ec2Calls.Select(p => ($"action=\"{p.Key.Action}\",outcome=\"{p.Key.Outcome}\"", p.Value)));
        Counter(text, "branch_eni_controller_companion_writes_total", "Companion NetworkPolicy writes, by verb (create, update, delete).",
            _companionWrites.Select(p => ($"verb=\"{p.Key}\"", p.Value)));
        Counter(text, "branch_eni_controller_enis_deleted_total", "ENIs the leader's cleanup deleted, by kind (branch, trunk) and reason (instance-gone, pod-gone).",
            _enisDeleted.Select(p => ($"kind=\"{p.Key.Kind}\",reason=\"{p.Key.Reason}\"", p.Value)));
        text.Append(Invariant($"# HELP branch_eni_controller_cleanup_errors_total ENI cleanup passes and deletes that failed.\n# TYPE branch_eni_controller_cleanup_errors_total counter\nbranch_eni_controller_cleanup_errors_total {CleanupErrors}\n"));
        Gauge(text, "branch_eni_controller_cleanup_suspects", "ENIs judged garbage and waiting out the cleanup cooldown (leader only).", _cleanupSuspects is int n ? n : null);

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
