using System.Diagnostics;
using BranchEni.Sandbox.Admin;
using BranchEni.Sandbox.Ec2;
using BranchEni.Sandbox.Hosting;

namespace BranchEni.Bench;

/// <summary>
/// The soak's storms and its watchers, each a loop until the token is cancelled: throttling injected as EC2 does it,
/// server errors and latency spikes, a random agent killed -9 every few seconds and restarted, and a watcher that
/// reads the sandbox's trunk associations twice a second and every agent's and controller's memory.
/// </summary>
internal sealed class ClusterChaos(SandboxAdmin admin, ClusterFleet fleet, int seed)
{
    private readonly Random _random = new(seed);
    private readonly HashSet<string> _doubleVlans = new(StringComparer.Ordinal);
    private readonly Dictionary<string, double> _agentPeakMb = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly Dictionary<string, (double Sum, double Lowest, int Samples)> _rates = new(StringComparer.Ordinal);
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(2) };

    public long InjectedThrottles { get; private set; }

    public int Kills { get; private set; }

    public double ControllerPeakMb { get; private set; }

    /// <summary>"trunk/vlan" pairs that had two branches associated at the same time.</summary>
    public int DoubleVlans
    {
        get
        {
            lock (_gate)
            {
                return _doubleVlans.Count;
            }
        }
    }

    /// <summary>Per node, the largest resident memory any of its agent processes had when sampled.</summary>
    public IReadOnlyDictionary<string, double> AgentPeakMb
    {
        get
        {
            lock (_gate)
            {
                return new Dictionary<string, double>(_agentPeakMb, StringComparer.Ordinal);
            }
        }
    }

    /// <summary>Server errors and latency spikes on every action; they come after the call took its token, as a failure
    /// inside EC2 would.</summary>
    public static FaultSettings ServerFaults(double errorRate, double spikeRate, int spikeMs) => new()
    {
        Actions =
        {
            ["*"] = new ActionFault
            {
                ErrorRate = errorRate, ErrorCode = "InternalError", HttpStatus = 500,
                LatencySpikeRate = spikeRate, LatencySpikeMilliseconds = spikeMs,
            },
        },
    };

    /// <summary>
    /// Throttles <paramref name="share"/> of all calls with RequestLimitExceeded the way EC2 does when another client of
    /// the account has emptied a bucket: the answer takes no token. Every 50 ms it forces that share of the calls made
    /// meanwhile (a throttle burst on "*"), so the storm follows the load, arriving in runs as a noisy neighbour's would.
    /// </summary>
    public async Task InjectThrottlesAsync(double share, CancellationToken ct)
    {
        var last = TotalCalls(admin.CallCounts);
        var owed = 0.0;
        while (await Tick(TimeSpan.FromMilliseconds(50), ct))
        {
            var now = TotalCalls(admin.CallCounts);
            owed += (now - last) * share;
            last = now;
            if ((int)owed is var n and > 0)
            {
                admin.AddThrottleBurst(new ThrottleBurst { Action = "*", Count = n });
                owed -= n;
                InjectedThrottles += n;
            }
        }
    }

    /// <summary>Every <paramref name="every"/>, kill -9 one running agent at random and start it again after
    /// <paramref name="down"/>, as the DaemonSet's kubelet restarts a crashed container.</summary>
    public async Task KillAgentsAsync(TimeSpan every, TimeSpan down, CancellationToken ct)
    {
        while (await Tick(every, ct))
        {
            NodeSlot victim;
            lock (fleet)
            {
                var running = fleet.Nodes.Where(n => !n.Retired && n.Agent is { HasExited: false }).ToList();
                if (running.Count == 0)
                {
                    continue;
                }

                victim = running[_random.Next(running.Count)];
                ClusterFleet.Kill9(victim.Agent!);
                Kills++;
            }

            await Task.Delay(down, CancellationToken.None);
            lock (fleet)
            {
                if (!victim.Retired)
                {
                    victim.Agent!.Dispose();
                    fleet.StartAgent(victim);
                    victim.Restarts++;
                }
            }
        }
    }

    /// <summary>Twice a second: two branches on one trunk with one VLAN id is the failure the VLAN allocator exists to
    /// prevent; every other second, every process's resident memory.</summary>
    public async Task WatchAsync(CancellationToken ct)
    {
        var tick = 0;
        while (await Tick(TimeSpan.FromMilliseconds(500), ct))
        {
            var doubled = admin.Snapshot().Associations
                .GroupBy(a => (a.TrunkInterfaceId, a.VlanId))
                .Where(g => g.Count() > 1)
                .Select(g => $"{g.Key.TrunkInterfaceId}/{g.Key.VlanId}");
            lock (_gate)
            {
                _doubleVlans.UnionWith(doubled);
            }

            if (tick++ % 4 == 0)
            {
                SampleMemory();
                await SampleRatesAsync();
            }
        }
    }

    public void SampleMemory()
    {
        lock (fleet)
        {
            foreach (var node in fleet.Nodes.Where(n => n.Agent is { HasExited: false }))
            {
                var mb = Rss(node.Agent!);
                lock (_gate)
                {
                    _agentPeakMb[node.Node] = Math.Max(mb, _agentPeakMb.GetValueOrDefault(node.Node));
                }
            }

            foreach (var controller in fleet.Controllers.Where(c => !c.HasExited))
            {
                ControllerPeakMb = Math.Max(ControllerPeakMb, Rss(controller));
            }
        }
    }

    /// <summary>The agents' AIMD rates (their /metrics), summed over the running agents per bucket and averaged over the
    /// samples since the last call: how much of the account's refill the fleet was asking for.</summary>
    public string TakeRateSummary()
    {
        lock (_gate)
        {
            var text = string.Join(", ", _rates.OrderBy(r => r.Key, StringComparer.Ordinal)
                .Select(r => FormattableString.Invariant($"{r.Key} {r.Value.Sum / r.Value.Samples:0.##}/s (lowest agent {r.Value.Lowest / r.Value.Samples:0.###}/s)")));
            _rates.Clear();
            return text;
        }
    }

    private async Task SampleRatesAsync()
    {
        List<string> health;
        lock (fleet)
        {
            health = fleet.Nodes.Where(n => n.Agent is { HasExited: false }).Select(n => n.Health).ToList();
        }

        var sums = new Dictionary<string, (double Sum, double Lowest)>(StringComparer.Ordinal);
        foreach (var address in health)
        {
            try
            {
                foreach (var line in (await _http.GetStringAsync(new Uri($"http://{address}/metrics"))).Split('\n'))
                {
                    const string Prefix = "branch_eni_ec2_rate_per_second{bucket=\"";
                    if (line.StartsWith(Prefix, StringComparison.Ordinal) && line.IndexOf('"', Prefix.Length) is var end and > 0)
                    {
                        var bucket = line[Prefix.Length..end];
                        var rate = double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
                        sums[bucket] = sums.TryGetValue(bucket, out var seen) ? (seen.Sum + rate, Math.Min(seen.Lowest, rate)) : (rate, rate);
                    }
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // killed or restarting: it asks for nothing now
            }
        }

        lock (_gate)
        {
            foreach (var (bucket, (sum, lowest)) in sums)
            {
                var (total, lowestTotal, samples) = _rates.GetValueOrDefault(bucket);
                _rates[bucket] = (total + sum, lowestTotal + lowest, samples + 1);
            }
        }
    }

    public static long TotalCalls(IReadOnlyDictionary<string, Ec2CallCount> counts) => counts.Values.Sum(c => c.Calls);

    /// <summary>A process that died between the check and the read has no memory to report.</summary>
    private static double Rss(Process process)
    {
        try
        {
            return ClusterFleet.RssMb(process);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException)
        {
            return 0;
        }
    }

    private static async Task<bool> Tick(TimeSpan delay, CancellationToken ct)
    {
        try
        {
            await Task.Delay(delay, ct);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
