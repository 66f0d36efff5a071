using System.Collections.Concurrent;
using BranchEni.Agent.Kubernetes;
using BranchEni.Contracts;
using BranchEni.Policy;

namespace BranchEni.Agent.Branches;

/// <summary>
/// Keeps `decisions/&lt;uid&gt;.json` for every pod of the node (DESIGN.md §1 "Fail closed"): as soon as the informer
/// shows a pod, the CNI can tell from a file whether to wait for its branch ENI or to delegate it, without reading the
/// API. Writes only what changed (remembered per UID; after a restart, compared with the file).
/// </summary>
internal sealed class DecisionRecords(NodeRecords records)
{
    private readonly ConcurrentDictionary<string, PodDecision> _written = new(StringComparer.Ordinal);

    public void Record(PodView pod, bool branch, string reason)
    {
        var decision = new PodDecision(pod.Uid, pod.Namespace, pod.Name, branch, reason);
        if (_written.TryGetValue(pod.Uid, out var known) && known == decision)
        {
            return;
        }

        PodDecision? onDisk;
        try
        {
            onDisk = records.ReadDecision(pod.Uid);
        }
        catch (InvalidDataException)
        {
            onDisk = null;
        }

        if (onDisk != decision)
        {
            records.WriteDecision(decision);
        }

        _written[pod.Uid] = decision;
    }

    /// <summary>For a node that cannot have branch ENIs: a pod that must have one is recorded as such (the CNI then
    /// fails closed with <paramref name="why"/> in its message), every other pod as delegated.</summary>
    public void RecordWithoutBranches(PodView pod, BranchDecision decision, string why) =>
        Record(pod, decision.NeedsBranch, decision.NeedsBranch ? $"{decision.Reason}, but this node has no branch ENIs: {why}" : decision.Reason);

    public void Forget(string uid)
    {
        _written.TryRemove(uid, out _);
        records.DeleteDecision(uid);
    }

    /// <summary>Removes the decisions of pods that are gone (deleted while the agent was down, say).</summary>
    public void Sweep(Func<string, bool> isLive)
    {
        foreach (var uid in records.ListDecisionUids().Where(uid => !isLive(uid)).ToList())
        {
            Forget(uid);
        }
    }
}
