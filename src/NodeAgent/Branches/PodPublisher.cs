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
/// What the node and the cluster are told about a pod's branch: its record (authoritative, the CNI reads it), then
/// the pod-eni annotation and the sg.aws.tigera.io labels, each written only when it differs; the ResourceAllocated
/// event and the time-to-annotate metric once the annotation is written; and all of it taken back when the branch
/// goes.
/// </summary>
internal sealed class PodPublisher(NodeRecords records, Trunk trunk, KubeApi api, EventSink events, AgentMetrics metrics, ILogger log)
{
    private readonly SecurityGroupLabels _labels = new(api, log);
    private readonly ConcurrentDictionary<string, long> _firstSeen = new(StringComparer.Ordinal);

    /// <summary>Counts how often a pod's annotation was written (tests check "annotated once").</summary>
    internal ConcurrentDictionary<string, int> AnnotationWrites { get; } = new(StringComparer.Ordinal);

    /// <summary>When the pod was first seen: the time-to-annotate metric runs from here.</summary>
    public void Seen(string uid) => _firstSeen.TryAdd(uid, Stopwatch.GetTimestamp());

    /// <summary>Writes the record and then the annotation and the sg labels. <paramref name="metadataAccess"/> decides
    /// the record's verdict when it has none for this ENI yet.</summary>
    public async Task PublishAsync(PodView pod, BranchEntry entry, Func<MetadataAccess> metadataAccess, CancellationToken ct)
    {
        var info = WriteRecord(pod, entry, metadataAccess);
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

    /// <summary>A pod without a branch carries no sg labels: one there was not the agent's (the webhook is the first
    /// guard, with failurePolicy Ignore; this is the second, on every change the informer shows), or its branch is
    /// released (a finished pod's object stays, and must not keep claiming groups it is no longer in).</summary>
    public Task ClearLabelsAsync(PodView pod, CancellationToken ct) => _labels.SyncAsync(pod, [], ct);

    /// <summary>The pod is gone or its branch released: its record goes (the annotation goes with the pod).</summary>
    public void Withdraw(string uid)
    {
        _firstSeen.TryRemove(uid, out _);
        records.DeletePod(uid);
    }

    /// <summary>The pod's record, written when it differs; returns the annotation element it carries.</summary>
    private BranchEniInfo WriteRecord(PodView pod, BranchEntry entry, Func<MetadataAccess> metadataAccess)
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
        var decided = existing is not null && existing.EniId == info.EniId && existing.MetadataAccess is { } kept ? kept
            : (entry.MetadataAccess ?? metadataAccess()).ToString();
        var record = new PodRecord
        {
            EniId = info.EniId, IfAddress = info.IfAddress, PrivateIp = info.PrivateIp, Ipv6Addr = info.Ipv6Addr, VlanId = info.VlanId,
            SubnetCidr = info.SubnetCidr, SubnetV6Cidr = info.SubnetV6Cidr, AssociationId = info.AssociationId,
            PodNamespace = pod.Namespace, PodName = pod.Name, PodUid = pod.Uid,
            MetadataAccess = decided,
        };
        if (existing != record)
        {
            records.WritePod(record);
        }

        return info;
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
