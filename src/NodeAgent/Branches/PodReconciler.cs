using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using BranchEni.Agent.Ec2;
using BranchEni.Agent.Kubernetes;
using BranchEni.Agent.Observability;
using BranchEni.Contracts;
using BranchEni.Kube;
using BranchEni.Policy;
using Serilog;

namespace BranchEni.Agent.Branches;

/// <summary>
/// Brings one pod (by UID) to where it should be: a live pod selected by a SecurityGroupPolicy (or asking for
/// vpc.amazonaws.com/pod-eni) gets a VLAN, a branch ENI, its record and its annotation; a pod that is gone or finished
/// has its branch released after the cooldown. Called by the work queue, one call per pod at a time.
/// </summary>
internal sealed class PodReconciler(
    BranchTable table,
    BranchProvisioner provisioner,
    NodeRecords records,
    DecisionRecords decisions,
    Trunk trunk,
    IClusterView cluster,
    KubeApi api,
    EventSink events,
    WorkQueue queue,
    AgentMetrics metrics,
    TimeSpan cooldown,
    ILogger log,
    PodRules rules,
    SecurityGroupChecker checker)
{
    private readonly SecurityGroupLabels _labels = new(api, log);

    /// <summary>Pods whose annotation's groups EC2 refused (uid → why): they get no branch, and their decision record
    /// keeps saying so (the CNI fails closed with this reason) until the pod is gone.</summary>
    private readonly ConcurrentDictionary<string, string> _refused = new(StringComparer.Ordinal);

    private readonly ConcurrentDictionary<string, long> _firstSeen = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _failures = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _waitingForVlan = new(StringComparer.Ordinal);

    /// <summary>Counts how often a pod's annotation was written (tests check "annotated once").</summary>
    internal ConcurrentDictionary<string, int> AnnotationWrites { get; } = new(StringComparer.Ordinal);

    public void Seen(string uid) => _firstSeen.TryAdd(uid, Stopwatch.GetTimestamp());

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
            var failures = _failures.AddOrUpdate(uid, 1, (_, n) => n + 1);
            var delay = TimeSpan.FromMilliseconds(Math.Min(30_000, 200 * Math.Pow(2, Math.Min(failures, 8))));
            log.Warning("Pod {PodUid}: {Error}; retrying in {DelayMs} ms", uid, e.Message, (int)delay.TotalMilliseconds);
            if (cluster.Pod(uid) is { } pod)
            {
                await events.PodAsync(pod, "Warning", EventSink.BranchAllocationFailed, $"branch ENI: {e.Message}", ct).ConfigureAwait(false);
            }

            queue.EnqueueAfter(uid, delay, ct);
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
                // No branch, so no groups: a sg.aws.tigera.io label here was not the agent's (the webhook is the first
                // guard, with failurePolicy Ignore; this is the second, on every change the informer shows).
                await _labels.SyncAsync(pod, [], ct).ConfigureAwait(false);
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

        await PublishAsync(pod, entry, ct).ConfigureAwait(false);
        _failures.TryRemove(pod.Uid, out _);
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
            if (pod.RequestsPodEni && _waitingForVlan.TryAdd(pod.Uid, false))
            {
                await events.PodAsync(pod, "Warning", EventSink.BranchAllocationFailed,
                    $"the pod requests {PodEni.Resource} but no SecurityGroupPolicy in namespace {pod.Namespace} selects it", ct).ConfigureAwait(false);
            }

            return null;
        }

        var vlan = table.Vlans.TryAllocate();
        if (vlan is null)
        {
            if (_waitingForVlan.TryAdd(pod.Uid, true))
            {
                log.Information("Pod {Namespace}/{Pod} waits: all {Limit} branch ENIs of this node are in use", pod.Namespace, pod.Name, table.Vlans.Limit);
                await events.PodAsync(pod, "Warning", EventSink.BranchAllocationFailed,
                    $"node is at its branch ENI limit ({table.Vlans.Limit}); the pod waits for one to be released", ct).ConfigureAwait(false);
            }

            return null;
        }

        _waitingForVlan.TryRemove(pod.Uid, out _);
        Seen(pod.Uid);
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

    /// <summary>Writes the record (authoritative) and then the annotation and the sg labels, each only when it differs.</summary>
    private async Task PublishAsync(PodView pod, BranchEntry entry, CancellationToken ct)
    {
        var info = WriteRecord(pod, entry);
        var annotation = JsonSerializer.Serialize(new List<BranchEniInfo> { info }, ContractsJsonContext.Default.ListBranchEniInfo);
        if (pod.PodEniAnnotation == annotation)
        {
            await _labels.SyncAsync(pod, entry.SecurityGroups, ct).ConfigureAwait(false);
            return;
        }

        if (pod.PodEniAnnotation is not null)
        {
            log.Warning("Pod {Namespace}/{Pod} carries a pod-eni annotation the agent did not write; replacing it with the record's", pod.Namespace, pod.Name);
        }

        try
        {
            await api.PatchPodAnnotationAsync(pod.Namespace, pod.Name, pod.Uid, PodEni.AnnotationKey, annotation, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (KubeApi.IsStatus(e, HttpStatusCode.NotFound) || KubeApi.IsStatus(e, HttpStatusCode.Conflict))
        {
            // The pod is gone or its name now belongs to another pod (uid precondition): the watch brings the delete.
            log.Information("Pod {Namespace}/{Pod} ({PodUid}) vanished before its annotation was written", pod.Namespace, pod.Name, pod.Uid);
            return;
        }

        AnnotationWrites.AddOrUpdate(pod.Uid, 1, (_, n) => n + 1);
        await _labels.SyncAsync(pod, entry.SecurityGroups, ct).ConfigureAwait(false);
        if (_firstSeen.TryRemove(pod.Uid, out var seen))
        {
            metrics.ObservePodAnnotated(Stopwatch.GetElapsedTime(seen));
        }

        await events.PodAsync(pod, "Normal", EventSink.ResourceAllocated,
            $"branch ENI {entry.EniId} ({entry.PrivateIp}) on VLAN {entry.VlanId} of trunk {trunk.EniId}", ct).ConfigureAwait(false);
    }

    /// <summary>The pod's record, written when it differs; returns the annotation element it carries.</summary>
    private BranchEniInfo WriteRecord(PodView pod, BranchEntry entry)
    {
        var info = new BranchEniInfo
        {
            EniId = entry.EniId,
            IfAddress = entry.MacAddress,
            PrivateIp = entry.PrivateIp,
            Ipv6Addr = "",
            VlanId = entry.VlanId,
            SubnetCidr = trunk.SubnetCidr,
            SubnetV6Cidr = "",
            AssociationId = entry.AssociationId,
        };

        // Refuse to publish what the CNI would refuse to read.
        BranchEniParser.Parse(info);
        var existing = records.ReadPodOrNull(pod.Uid);

        // Decided once, when the record is first written (before the sandbox exists): the CNI plumbs it at ADD, so a
        // later label change must not make the record disagree with the pod's routes.
        var metadataAccess = existing is not null && existing.EniId == info.EniId && existing.MetadataAccess is { } decided ? decided
            : (entry.MetadataAccess ?? MetadataAccessPolicy.For(pod.Labels, rules.DefaultMetadataAccess, cluster.DecideNow(pod, rules).PlacedByAnnotation)).ToString();
        var record = new PodRecord
        {
            EniId = info.EniId, IfAddress = info.IfAddress, PrivateIp = info.PrivateIp, Ipv6Addr = info.Ipv6Addr, VlanId = info.VlanId,
            SubnetCidr = info.SubnetCidr, SubnetV6Cidr = info.SubnetV6Cidr, AssociationId = info.AssociationId,
            PodNamespace = pod.Namespace, PodName = pod.Name, PodUid = pod.Uid,
            MetadataAccess = metadataAccess,
        };
        if (existing != record)
        {
            records.WritePod(record);
        }

        return info;
    }

    private async Task ReleaseAsync(string uid, CancellationToken ct)
    {
        _waitingForVlan.TryRemove(uid, out _);
        _firstSeen.TryRemove(uid, out _);
        _refused.TryRemove(uid, out _);
        decisions.Forget(uid);
        var entry = table.Get(uid);
        if (entry is null)
        {
            records.DeletePod(uid);
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
            // A finished pod's object stays: it must not keep claiming groups it is no longer in.
            await _labels.SyncAsync(finished, [], ct).ConfigureAwait(false);
        }

        table.Remove(entry);
        records.DeletePod(uid);
        _failures.TryRemove(uid, out _);
        foreach (var waiting in _waitingForVlan.Where(w => w.Value).Select(w => w.Key))
        {
            queue.Enqueue(waiting);
        }
    }

    /// <summary>Pods that could not start (no policy yet, no free VLAN) are looked at again when policies change.</summary>
    public void RetryWaiting()
    {
        foreach (var uid in _waitingForVlan.Keys)
        {
            _waitingForVlan.TryRemove(uid, out _);
            queue.Enqueue(uid);
        }
    }
}

internal static class NodeRecordsExtensions
{
    /// <summary>The pod's record, or null when absent or unreadable (it is then rewritten).</summary>
    public static PodRecord? ReadPodOrNull(this NodeRecords records, string uid)
    {
        try
        {
            return records.ReadPod(uid);
        }
        catch (InvalidDataException)
        {
            return null;
        }
    }
}
