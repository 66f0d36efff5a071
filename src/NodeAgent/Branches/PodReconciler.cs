using System.Collections.Concurrent;
using BranchEni.Agent.Kubernetes;
using BranchEni.Policy;
using Serilog;

namespace BranchEni.Agent.Branches;

/// <summary>
/// Brings one pod (by UID) to where it should be: a live pod selected by a SecurityGroupPolicy (or asking for
/// vpc.amazonaws.com/pod-eni) gets a VLAN, a branch ENI, its record and its annotation; a pod that is gone or finished
/// has its branch released after the cooldown. Called by the work queue, one call per pod at a time; a failure is the
/// queue's to retry with backoff. Telling the node and the cluster is <see cref="PodPublisher"/>'s, and pods that wait
/// for a policy or a VLAN are <see cref="WaitingPods"/>'.
/// </summary>
internal sealed class PodReconciler(
    BranchTable table,
    BranchProvisioner provisioner,
    DecisionRecords decisions,
    IClusterView cluster,
    PodPublisher publisher,
    WaitingPods waiting,
    EventSink events,
    WorkQueue queue,
    TimeSpan cooldown,
    PodRules rules,
    SecurityGroupChecker checker,
    ILogger log)
{
    /// <summary>Pods whose annotation's groups EC2 refused (uid → why): they get no branch, and their decision record
    /// keeps saying so (the CNI fails closed with this reason) until the pod is gone.</summary>
    private readonly ConcurrentDictionary<string, string> _refused = new(StringComparer.Ordinal);

    public async Task ReconcileAsync(string uid, CancellationToken ct)
    {
        try
        {
            var pod = cluster.Pod(uid);
            if (pod is null || pod.Finished)
            {
                await ReleaseAsync(uid, ct).ConfigureAwait(false);
                return;
            }

            if (pod.HostNetwork)
            {
                // The CNI never runs for it.
                return;
            }

            await ProvisionAsync(pod, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            // Whatever EC2, the API server or a malformed answer throws, this pod retries with backoff and the agent
            // carries on with the others (no crash loop).
            var delay = queue.Retry(uid, ct);
            log.Warning("Pod {PodUid}: {Error}; retrying in {DelayMs} ms", uid, e.Message, (int)delay.TotalMilliseconds);
            if (cluster.Pod(uid) is { } pod)
            {
                await events.PodAsync(pod, "Warning", EventSink.BranchAllocationFailed, $"branch ENI: {e.Message}", ct).ConfigureAwait(false);
            }
        }
    }

    private async Task ProvisionAsync(PodView pod, CancellationToken ct)
    {
        var entry = table.Get(pod.Uid);
        if (entry is null)
        {
            if (RecordDecision(pod) is not { } decision)
            {
                // Deferred: its namespace's service accounts are not synced; their sync requeues it.
                return;
            }

            entry = await StartAsync(pod, decision, ct).ConfigureAwait(false);
            if (entry is null)
            {
                // No branch, so no groups.
                await publisher.ClearLabelsAsync(pod, ct).ConfigureAwait(false);
                return;
            }
        }
        else if (entry.PodName != pod.Name || entry.PodNamespace != pod.Namespace)
        {
            entry = entry with { PodNamespace = pod.Namespace, PodName = pod.Name };
            table.Set(entry);
        }

        if (!entry.IsComplete)
        {
            try
            {
                // The groups decided when the VLAN was taken; an entry rebuilt after a restart without its ENI decides again.
                var groups = entry.EniId is not null ? [] : entry.SecurityGroups.Count > 0 ? entry.SecurityGroups : cluster.DecideNow(pod, rules).GroupIds;
                entry = await provisioner.CompleteAsync(entry, groups, ct).ConfigureAwait(false);
            }
            catch when (table.Get(pod.Uid) is { EniId: null } unstarted)
            {
                // Nothing exists in EC2 for it: give the VLAN back so other pods are not starved while this one retries.
                table.Remove(unstarted);
                throw;
            }
        }

        await publisher.PublishAsync(pod, entry, () => MetadataAccessPolicy.For(pod.Labels, rules.DefaultMetadataAccess, cluster.DecideNow(pod, rules).PlacedByAnnotation), ct)
            .ConfigureAwait(false);
        queue.Forget(pod.Uid);
    }

    /// <summary>Writes the CNI's decision record for a live pod that has no branch yet (a pod with one keeps it:
    /// running pods are not changed) and returns the decision; null when there is nothing to decide, or nothing can be
    /// decided yet (its record is then removed: the CNI waits or asks the API, it never delegates on a stale "no").</summary>
    public BranchDecision? RecordDecision(PodView pod)
    {
        if (pod.HostNetwork || pod.Finished || table.Get(pod.Uid) is not null)
        {
            return null;
        }

        if (cluster.Decide(pod, rules) is not { } decision)
        {
            decisions.Forget(pod.Uid);
            return null;
        }

        if (decision.AnnotationProblem is null && _refused.TryGetValue(pod.Uid, out var why))
        {
            // Never delegated: the pod asked for groups it cannot have, so it gets no network rather than the node's.
            decisions.Record(pod, true, $"{decision.Reason}, but {why}");
        }
        else
        {
            decisions.Record(pod, decision.NeedsBranch, decision.Reason);
        }

        return decision;
    }

    /// <summary>Decides whether the pod gets a branch and takes its VLAN; null when it gets none (yet).</summary>
    private async Task<BranchEntry?> StartAsync(PodView pod, BranchDecision decision, CancellationToken ct)
    {
        if ((decision.AnnotationProblem is not null || decision.PlacedByAnnotation) && !await AnnotationGroupsUsableAsync(pod, decision, ct).ConfigureAwait(false))
        {
            return null;
        }

        if (decision.GroupIds.Count == 0)
        {
            if (pod.RequestsPodEni && waiting.Wait(pod.Uid, forVlan: false))
            {
                await events.PodAsync(pod, "Warning", EventSink.BranchAllocationFailed,
                    $"the pod requests {PodEni.Resource} but no SecurityGroupPolicy in namespace {pod.Namespace} selects it", ct).ConfigureAwait(false);
            }

            return null;
        }

        var vlan = table.Vlans.TryAllocate();
        if (vlan is null)
        {
            if (waiting.Wait(pod.Uid, forVlan: true))
            {
                log.Information("Pod {Namespace}/{Pod} waits: all {Limit} branch ENIs of this node are in use", pod.Namespace, pod.Name, table.Vlans.Limit);
                await events.PodAsync(pod, "Warning", EventSink.BranchAllocationFailed,
                    $"node is at its branch ENI limit ({table.Vlans.Limit}); the pod waits for one to be released", ct).ConfigureAwait(false);
            }

            return null;
        }

        waiting.Stop(pod.Uid);
        publisher.Seen(pod.Uid);
        // One decision for the groups the ENI is created with, the event below and the record's metadata access.
        var entry = new BranchEntry
        {
            PodUid = pod.Uid, PodNamespace = pod.Namespace, PodName = pod.Name, VlanId = vlan.Value, SecurityGroups = decision.GroupIds,
            MetadataAccess = MetadataAccessPolicy.For(pod.Labels, rules.DefaultMetadataAccess, decision.PlacedByAnnotation),
        };
        table.Set(entry);
        await events.PodAsync(pod, "Normal", EventSink.SecurityGroupRequested,
            $"security groups [{string.Join(", ", decision.GroupIds)}] from {decision.Source}", ct).ConfigureAwait(false);
        return entry;
    }

    /// <summary>Checks the annotation's groups with EC2; a bad one is a Warning event, no branch and a decision record
    /// that keeps the pod off the node's networking. Re-checked now and then: the group may be created later.</summary>
    private async Task<bool> AnnotationGroupsUsableAsync(PodView pod, BranchDecision decision, CancellationToken ct)
    {
        // A malformed annotation (the webhook refuses it at creation, but it may be off or bypassed) is the same case.
        var problem = decision.AnnotationProblem is { } malformed
            ? $"the {TigeraNames.SecurityGroupsAnnotation} annotation is invalid: {malformed}"
            : await checker.ProblemAsync(decision.AnnotationGroupIds, decision.GroupIds.Count, ct).ConfigureAwait(false);
        if (problem is null)
        {
            if (_refused.TryRemove(pod.Uid, out _))
            {
                RecordDecision(pod);
            }

            return true;
        }

        var first = !_refused.TryGetValue(pod.Uid, out var before) || before != problem;
        _refused[pod.Uid] = problem;
        RecordDecision(pod);
        if (first)
        {
            log.Warning("Pod {Namespace}/{Pod} gets no branch ENI: {Problem}", pod.Namespace, pod.Name, problem);
            await events.PodAsync(pod, "Warning", EventSink.InvalidSecurityGroups,
                $"no branch ENI: {problem} (from annotation {TigeraNames.SecurityGroupsAnnotation}); the pod cannot start until it is recreated with valid groups", ct).ConfigureAwait(false);
        }

        queue.EnqueueAfter(pod.Uid, TimeSpan.FromSeconds(60), ct);
        return false;
    }

    private async Task ReleaseAsync(string uid, CancellationToken ct)
    {
        waiting.Stop(uid);
        _refused.TryRemove(uid, out _);
        decisions.Forget(uid);
        var entry = table.Get(uid);
        if (entry is null)
        {
            publisher.Withdraw(uid);
            queue.Forget(uid);
            return;
        }

        var now = DateTime.UtcNow;
        if (entry.ReleaseAt is null)
        {
            entry = entry with { ReleaseAt = now + cooldown };
            table.Set(entry);
            log.Information("Pod {Namespace}/{Pod} is gone; branch ENI {EniId} is released after {Seconds} s", entry.PodNamespace, entry.PodName, entry.EniId, cooldown.TotalSeconds);
        }

        if (entry.ReleaseAt > now)
        {
            queue.EnqueueAfter(uid, entry.ReleaseAt.Value - now, ct);
            return;
        }

        await provisioner.ReleaseAsync(entry, ct).ConfigureAwait(false);
        if (cluster.Pod(uid) is { } finished)
        {
            await publisher.ClearLabelsAsync(finished, ct).ConfigureAwait(false);
        }

        table.Remove(entry);
        publisher.Withdraw(uid);
        queue.Forget(uid);
        waiting.VlanFreed();
    }
}
