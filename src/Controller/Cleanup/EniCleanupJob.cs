using BranchEni.Controller.Observability;
using Serilog;

namespace BranchEni.Controller.Cleanup;

/// <summary>What one pass did: the ENIs it deleted and those EC2 said were already gone.</summary>
internal sealed record CleanupPass(IReadOnlyList<string> Deleted, IReadOnlyList<string> AlreadyGone, int Suspects);

/// <summary>
/// The leader's cluster-wide ENI cleanup (issue 20 item 3). Each pass lists the cluster's available ENIs tagged ours,
/// judges them (<see cref="GarbageRules"/>: instance gone, or a branch's pod gone everywhere) and deletes those that have
/// been garbage on every pass for at least <see cref="Cooldown"/> and are in no trunk association. Agents delete their
/// own instance's leaks after ~60 s; the longer cooldown gives them the first go, so this job is the fallback for dead
/// nodes. Exactly once: only the Lease holder passes; losing the Lease cancels the pass between deletes; what a replica
/// has seen is forgotten when it stops leading, so a new leader waits a full cooldown before its first delete, long after
/// the old one stepped down; and a delete EC2 answers NotFound counts as done.
/// </summary>
internal sealed class EniCleanupJob(
    Func<CleanupEc2> connectEc2,
    string clusterName,
    Func<bool> isLeader,
    Func<IReadOnlySet<string>?> podUids,
    ControllerMetrics metrics,
    ILogger log)
{
    private readonly Lock _lock = new();
    private Dictionary<string, (long FirstSeen, Garbage Garbage)> _suspects = new(StringComparer.Ordinal);
    private CancellationTokenSource? _pass;
    private CleanupEc2? _ec2;

    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(60);

    public TimeSpan Cooldown { get; init; } = TimeSpan.FromSeconds(300);

    /// <summary>The clock the cooldown is measured by (tests step it instead of waiting).</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>Wired to the elector: losing the Lease cancels the pass in flight.</summary>
    public void OnLeadershipChanged(bool leader)
    {
        if (!leader)
        {
            lock (_lock)
            {
                _pass?.Cancel();
            }
        }
    }

    public async Task RunAsync(CancellationToken ct)
    {
        log.Information("ENI cleanup for cluster {Cluster}: every {Interval} s as leader, after a {Cooldown} s cooldown",
            clusterName, Interval.TotalSeconds, Cooldown.TotalSeconds);
        while (!ct.IsCancellationRequested)
        {
            await Task.Delay(Interval, ct).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
            if (ct.IsCancellationRequested)
            {
                return;
            }

            if (!isLeader())
            {
                Forget();
                continue;
            }

            await GuardedPassAsync(ct).ConfigureAwait(false);
        }
    }

    private async Task GuardedPassAsync(CancellationToken ct)
    {
        using var pass = CancellationTokenSource.CreateLinkedTokenSource(ct);
        lock (_lock)
        {
            _pass = pass;
        }

        try
        {
            await PassAsync(pass.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Stopping.
        }
        catch (OperationCanceledException) when (pass.IsCancellationRequested || !isLeader())
        {
            log.Information("ENI cleanup pass stopped: this replica no longer holds the Lease");
            Forget();
        }
        catch (Exception e)
        {
            metrics.CleanupError();
            log.Warning("ENI cleanup pass failed ({Error}); nothing more is deleted until the next pass", e.Message);
        }
        finally
        {
            lock (_lock)
            {
                _pass = null;
            }
        }
    }

    /// <summary>One pass (the caller makes sure this replica leads). Throws when EC2 cannot be read.</summary>
    internal async Task<CleanupPass> PassAsync(CancellationToken ct)
    {
        var ec2 = _ec2 ??= connectEc2();
        var enis = await ec2.OurAvailableEnisAsync(clusterName, ct).ConfigureAwait(false);

        var instances = await ec2.InstanceStatesAsync(
            enis.Select(e => e.Tag(Aws.EniTags.InstanceId)).OfType<string>().Where(i => i.Length > 0).Distinct(StringComparer.Ordinal).ToList(), ct).ConfigureAwait(false);

        // Pods are read after the ENIs: a branch is created for a pod that exists, so its pod is in this later snapshot
        // (a watch event still in flight is covered by the cooldown: the pod must be missing on every pass).
        var pods = podUids();
        var garbage = enis.Select(e => GarbageRules.Judge(e, clusterName, i => InstanceGone(instances, i), uid => pods?.Contains(uid))).OfType<Garbage>().ToList();

        var now = Clock.GetTimestamp();
        var previous = _suspects;
        _suspects = garbage.ToDictionary(g => g.Eni.Id, g => (previous.TryGetValue(g.Eni.Id, out var seen) ? seen.FirstSeen : now, g), StringComparer.Ordinal);
        metrics.CleanupSuspects(_suspects.Count);
        var due = garbage.Where(g => previous.ContainsKey(g.Eni.Id) && Clock.GetElapsedTime(_suspects[g.Eni.Id].FirstSeen, now) >= Cooldown).ToList();
        if (due.Count == 0)
        {
            return new CleanupPass([], [], _suspects.Count);
        }

        // An association means a trunk still carries the branch (or the trunk still carries branches): not garbage. A
        // branch is looked up through the trunk its tag names; one without that tag cannot be checked and is kept.
        var trunks = due.Select(TrunkOf).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        var associated = trunks.Count == 0 ? new HashSet<string>() : await ec2.AssociatedWithTrunksAsync(trunks, ct).ConfigureAwait(false);
        var deletable = new List<Garbage>();
        foreach (var g in due)
        {
            if (TrunkOf(g) is null || associated.Contains(g.Eni.Id))
            {
                log.Information("{Kind} ENI {EniId} looks garbage ({Reason}) but {Why}; kept", g.Kind, g.Eni.Id, g.Reason,
                    TrunkOf(g) is null ? "has no trunk tag to check its association by" : "is in a trunk association");
                _suspects.Remove(g.Eni.Id);
                continue;
            }

            deletable.Add(g);
        }

        return await DeleteAsync(ec2, deletable, now, ct).ConfigureAwait(false);
    }

    private async Task<CleanupPass> DeleteAsync(CleanupEc2 ec2, List<Garbage> due, long now, CancellationToken ct)
    {
        var deleted = new List<string>();
        var gone = new List<string>();
        foreach (var g in due)
        {
            ct.ThrowIfCancellationRequested();
            if (!isLeader())
            {
                throw new OperationCanceledException("no longer leader", ct);
            }

            var seconds = (int)Clock.GetElapsedTime(_suspects[g.Eni.Id].FirstSeen, now).TotalSeconds;
            try
            {
                if (await ec2.DeleteIfExistsAsync(g.Eni.Id, ct).ConfigureAwait(false))
                {
                    deleted.Add(g.Eni.Id);
                    metrics.EniDeleted(g.Kind, g.Reason);
                    log.Information("Deleted {Kind} ENI {EniId} of instance {InstanceId} (pod {PodUid}): {Reason}, garbage for {Seconds} s",
                        g.Kind, g.Eni.Id, g.InstanceId, g.PodUid ?? "-", g.Reason, seconds);
                }
                else
                {
                    gone.Add(g.Eni.Id);
                    log.Information("{Kind} ENI {EniId} of instance {InstanceId} ({Reason}) was already deleted", g.Kind, g.Eni.Id, g.InstanceId, g.Reason);
                }

                _suspects.Remove(g.Eni.Id);
            }
            catch (Amazon.Runtime.AmazonServiceException e)
            {
                // E.g. InvalidNetworkInterface.InUse: attached or associated since the describe. It stays a suspect and
                // is judged again on the next pass.
                metrics.CleanupError();
                log.Warning("Could not delete {Kind} ENI {EniId} of instance {InstanceId} ({Reason}): {Code} {Error}",
                    g.Kind, g.Eni.Id, g.InstanceId, g.Reason, e.ErrorCode, e.Message);
            }
        }

        metrics.CleanupSuspects(_suspects.Count);
        return new CleanupPass(deleted, gone, _suspects.Count);
    }

    /// <summary>The trunk whose associations decide: the ENI itself, or the trunk a branch's tag names (null: none).</summary>
    private static string? TrunkOf(Garbage g) =>
        g.Kind == GarbageRules.Trunk ? g.Eni.Id : g.Eni.Tag(Aws.EniTags.TrunkEniId) is { Length: > 0 } trunk ? trunk : null;

    /// <summary>Gone: EC2 does not know it, or it is shutting down or terminated. An empty state is not judged.</summary>
    private static bool? InstanceGone(IReadOnlyDictionary<string, string> states, string instanceId) =>
        !states.TryGetValue(instanceId, out var state) || state is "shutting-down" or "terminated" ? true
        : state.Length == 0 ? null
        : false;

    private void Forget()
    {
        if (_suspects.Count > 0)
        {
            _suspects = new(StringComparer.Ordinal);
            metrics.CleanupSuspects(0);
        }
    }
}
