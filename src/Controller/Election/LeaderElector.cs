using System.Diagnostics;
using System.Net;
using BranchEni.Kube;
using k8s;
using k8s.Models;
using Serilog;

namespace BranchEni.Controller.Election;

/// <summary>
/// Leader election on a coordination.k8s.io/v1 Lease, client-go's algorithm: a holder renews every
/// <see cref="RetryPeriod"/>; another candidate takes over once it has seen the same holder and renewTime unchanged
/// for <see cref="LeaseDuration"/> by its own monotonic clock (so clock skew between replicas does not matter); a
/// holder that cannot renew within <see cref="RenewDeadline"/> steps down; a holder that stops hands the Lease back
/// (empty holder) so the next one need not wait out the duration. Only the cluster-wide jobs wait for leadership; the
/// webhooks are served by every replica.
/// </summary>
internal sealed class LeaderElector(KubeConnection kube, string ns, string name, string identity, ILogger log)
{
    private (string? Holder, DateTime? RenewTime) _observed;
    private long _observedAt;
    private volatile bool _leader;

    public string Identity => identity;

    public bool IsLeader => _leader;

    public TimeSpan LeaseDuration { get; init; } = TimeSpan.FromSeconds(15);

    public TimeSpan RenewDeadline { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan RetryPeriod { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Raised with true on becoming leader and false on losing or giving up the Lease.</summary>
    public event Action<bool>? LeadershipChanged;

    /// <summary>A Lease holder name: the pod's (or host's) name plus a random suffix, unique per process.</summary>
    public static string NewIdentity(string? podName) =>
        $"{(string.IsNullOrEmpty(podName) ? Environment.MachineName : podName)}_{Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4))}";

    public async Task RunAsync(CancellationToken ct)
    {
        var lastRenew = Stopwatch.GetTimestamp();
        while (!ct.IsCancellationRequested)
        {
            var (held, otherHolds) = await TryAcquireOrRenewAsync(ct).ConfigureAwait(false);
            if (held)
            {
                lastRenew = Stopwatch.GetTimestamp();
            }

            // A failed renewal is retried until the deadline; a Lease someone else holds is lost at once.
            if (held != _leader && (held || otherHolds || Stopwatch.GetElapsedTime(lastRenew) > RenewDeadline))
            {
                SetLeader(held);
            }

            await Task.Delay(RetryPeriod, ct).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
        }

        if (_leader)
        {
            await ReleaseAsync().ConfigureAwait(false);
            SetLeader(false);
        }
    }

    private async Task<(bool Held, bool OtherHolds)> TryAcquireOrRenewAsync(CancellationToken ct)
    {
        try
        {
            var lease = await ReadAsync(ct).ConfigureAwait(false);
            var now = DateTime.UtcNow;
            if (lease is null)
            {
                await kube.WithDeadline(c => kube.Client.CoordinationV1.CreateNamespacedLeaseAsync(NewLease(now), ns, cancellationToken: c), ct).ConfigureAwait(false);
                return (true, false);
            }

            var spec = lease.Spec ??= new V1LeaseSpec();
            Observe(spec);
            var mine = spec.HolderIdentity == identity;
            if (!mine && !string.IsNullOrEmpty(spec.HolderIdentity) && Stopwatch.GetElapsedTime(_observedAt) < LeaseDuration)
            {
                return (false, true);
            }

            if (!mine)
            {
                spec.HolderIdentity = identity;
                spec.AcquireTime = now;
                spec.LeaseTransitions = (spec.LeaseTransitions ?? 0) + 1;
            }

            spec.RenewTime = now;
            spec.LeaseDurationSeconds = (int)LeaseDuration.TotalSeconds;

            // The Lease carries the resourceVersion read: a candidate racing us makes one of the two writes fail (409).
            await kube.WithDeadline(c => kube.Client.CoordinationV1.ReplaceNamespacedLeaseAsync(lease, name, ns, cancellationToken: c), ct).ConfigureAwait(false);
            return (true, false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return (_leader, false);
        }
        catch (Exception e)
        {
            // Whatever went wrong, this round is not a renewal; the deadline decides when a leader steps down.
            if (!KubeConnection.IsStatus(e, HttpStatusCode.Conflict))
            {
                log.Warning("Lease {Namespace}/{Lease}: {Error}", ns, name, e.Message);
            }

            return (false, false);
        }
    }

    private void Observe(V1LeaseSpec spec)
    {
        var seen = (spec.HolderIdentity, spec.RenewTime);
        if (seen != _observed || _observedAt == 0)
        {
            _observed = seen;
            _observedAt = Stopwatch.GetTimestamp();
        }
    }

    private async Task ReleaseAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            var lease = await ReadAsync(timeout.Token).ConfigureAwait(false);
            if (lease?.Spec?.HolderIdentity != identity)
            {
                return;
            }

            lease.Spec.HolderIdentity = null;
            lease.Spec.LeaseDurationSeconds = 1;
            lease.Spec.RenewTime = DateTime.UtcNow;
            await kube.WithDeadline(c => kube.Client.CoordinationV1.ReplaceNamespacedLeaseAsync(lease, name, ns, cancellationToken: c), timeout.Token).ConfigureAwait(false);
            log.Information("Released Lease {Namespace}/{Lease}", ns, name);
        }
        catch (Exception e) when (e is HttpRequestException or k8s.Autorest.HttpOperationException or OperationCanceledException)
        {
            log.Warning("Could not release Lease {Namespace}/{Lease} ({Error}); the next leader waits out its duration", ns, name, e.Message);
        }
    }

    private async Task<V1Lease?> ReadAsync(CancellationToken ct)
    {
        try
        {
            return await kube.WithDeadline(c => kube.Client.CoordinationV1.ReadNamespacedLeaseAsync(name, ns, cancellationToken: c), ct).ConfigureAwait(false);
        }
        catch (Exception e) when (KubeConnection.IsStatus(e, HttpStatusCode.NotFound))
        {
            return null;
        }
    }

    private V1Lease NewLease(DateTime now) => new()
    {
        ApiVersion = "coordination.k8s.io/v1",
        Kind = "Lease",
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns },
        Spec = new V1LeaseSpec
        {
            HolderIdentity = identity,
            LeaseDurationSeconds = (int)LeaseDuration.TotalSeconds,
            AcquireTime = now,
            RenewTime = now,
            LeaseTransitions = 0,
        },
    };

    private void SetLeader(bool leader)
    {
        _leader = leader;
        if (leader)
        {
            log.Information("Became leader: holding Lease {Namespace}/{Lease} as {Identity}", ns, name, identity);
        }
        else
        {
            log.Information("No longer leader of Lease {Namespace}/{Lease} ({Identity})", ns, name, identity);
        }

        LeadershipChanged?.Invoke(leader);
    }
}
