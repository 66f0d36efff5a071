using BranchEni.Kube;
using Serilog;

namespace BranchEni.Agent.Kubernetes;

/// <summary>
/// Service-account informers, one per namespace that needs one: a namespace where some SecurityGroupPolicy selects by
/// service account and this node has a pod. A cluster-wide watch would make every agent of a 1,000-node cluster list
/// and follow every ServiceAccount; per namespace, an agent follows only the few accounts its own pods can be matched
/// by. A watch no longer needed stops after <see cref="Grace"/> (its cache dropped), so a flapping pod or policy does
/// not churn list+watch calls. Until a namespace's informer has synced its accounts are unknown: callers must not
/// decide its pods (<see cref="TryGet"/> says so).
/// </summary>
internal sealed class ServiceAccountWatches(KubeConnection api, Func<IReadOnlySet<string>> needed, TimeSpan idleTimeout, TimeSpan grace, ILogger log)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, NamespaceWatch> _watches = new(StringComparer.Ordinal);
    private CancellationToken? _running;

    /// <summary>A namespace's accounts became known (first sync) or one of them changed after that: its pods must be
    /// matched again.</summary>
    public Action<string>? Changed { get; set; }

    public TimeSpan Grace => grace;

    /// <summary>The namespaces watched now (tests and logs).</summary>
    public IReadOnlyCollection<string> Namespaces
    {
        get
        {
            lock (_gate)
            {
                return [.. _watches.Keys];
            }
        }
    }

    /// <summary>False while the namespace's accounts are unknown (no watch, or its first list not done); otherwise the
    /// account, or null when it does not exist.</summary>
    public bool TryGet(string ns, string name, out ServiceAccountView? account)
    {
        NamespaceWatch? watch;
        lock (_gate)
        {
            _watches.TryGetValue(ns, out watch);
        }

        account = watch is { Informer.IsSynced: true } ? watch.Informer.Get($"{ns}/{name}") : null;
        return watch is { Informer.IsSynced: true };
    }

    public bool IsSynced(string ns) => TryGet(ns, "", out _);

    /// <summary>Runs the watches until cancelled, then stops them all.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        lock (_gate)
        {
            _running = ct;
        }

        Update();
        await Task.Delay(Timeout.Infinite, ct).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
        List<NamespaceWatch> all;
        lock (_gate)
        {
            all = [.. _watches.Values];
            _watches.Clear();
        }

        await Task.WhenAll(all.Select(w => w.StopAsync())).ConfigureAwait(false);
    }

    /// <summary>Starts the watches now needed and schedules the stop of those no longer needed; called on every pod
    /// and policy change (cheap: a pass over this node's pods and the policies).</summary>
    public void Update()
    {
        lock (_gate)
        {
            if (_running is not { IsCancellationRequested: false } ct)
            {
                return;
            }

            var want = needed();
            foreach (var ns in want)
            {
                if (_watches.TryGetValue(ns, out var existing))
                {
                    existing.UnneededSince = null;
                }
                else
                {
                    _watches[ns] = Start(ns, ct);
                }
            }

            var now = DateTime.UtcNow;
            foreach (var (ns, watch) in _watches.Where(w => !want.Contains(w.Key)).ToList())
            {
                watch.UnneededSince ??= now;
                var left = watch.UnneededSince.Value + grace - now;
                if (left > TimeSpan.Zero)
                {
                    if (!watch.TimerSet)
                    {
                        watch.TimerSet = true;
                        _ = Task.Delay(left, ct).ContinueWith(_ => AfterGrace(watch), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
                    }

                    continue;
                }

                _watches.Remove(ns);
                log.Information("Stopped watching service accounts of namespace {Namespace}: no policy there selects by service account or no pod of this node is there", ns);
                _ = watch.StopAsync();
            }
        }
    }

    private void AfterGrace(NamespaceWatch watch)
    {
        lock (_gate)
        {
            watch.TimerSet = false;
        }

        Update();
    }

    private NamespaceWatch Start(string ns, CancellationToken ct)
    {
        var informer = new Informer<ServiceAccountView>(api,
            new($"serviceaccounts in {ns}", $"/api/v1/namespaces/{Uri.EscapeDataString(ns)}/serviceaccounts", "", ServiceAccountView.Parse), log)
        { IdleTimeout = idleTimeout };

        // Changes seen while listing are not announced one by one: the first sync announces them all at once.
        informer.Changed += (_, _) =>
        {
            if (informer.IsSynced)
            {
                Changed?.Invoke(ns);
            }
        };
        var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var run = Task.Run(() => informer.RunAsync(stop.Token), CancellationToken.None);
        _ = informer.Synced.ContinueWith(_ =>
        {
            log.Debug("Service accounts of namespace {Namespace} synced", ns);
            Changed?.Invoke(ns);
        }, CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
        log.Information("Watching service accounts of namespace {Namespace}: a policy there selects by service account and a pod of this node is there", ns);
        return new NamespaceWatch(informer, stop, run);
    }

    private sealed class NamespaceWatch(Informer<ServiceAccountView> informer, CancellationTokenSource stop, Task run)
    {
        public Informer<ServiceAccountView> Informer => informer;

        public DateTime? UnneededSince { get; set; }

        /// <summary>An update is scheduled for when the grace ends (one at a time, however often pods change).</summary>
        public bool TimerSet { get; set; }

        public async Task StopAsync()
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await run.ConfigureAwait(false);
            stop.Dispose();
        }
    }
}
