using System.Collections.Concurrent;
using BranchEni.Agent.Kubernetes;

namespace BranchEni.Agent.Branches;

/// <summary>
/// Pods that could not start: no SecurityGroupPolicy selects them yet, or every VLAN of the node is taken. Each is
/// told once (an event), and queued again when what it waits for may have changed: a released VLAN wakes those
/// waiting for one, a policy change wakes all.
/// </summary>
internal sealed class WaitingPods(WorkQueue queue)
{
    /// <summary>uid → waits for a VLAN (else for a policy).</summary>
    private readonly ConcurrentDictionary<string, bool> _waiting = new(StringComparer.Ordinal);

    /// <summary>Notes that the pod waits; true the first time, when it should be told why.</summary>
    public bool Wait(string uid, bool forVlan) => _waiting.TryAdd(uid, forVlan);

    public void Stop(string uid) => _waiting.TryRemove(uid, out _);

    /// <summary>A VLAN came free: the pods waiting for one try again.</summary>
    public void VlanFreed()
    {
        foreach (var uid in _waiting.Where(w => w.Value).Select(w => w.Key))
        {
            queue.Enqueue(uid);
        }
    }

    /// <summary>Policies changed: every waiting pod is looked at again (and told again if it still waits).</summary>
    public void RetryAll()
    {
        foreach (var uid in _waiting.Keys)
        {
            _waiting.TryRemove(uid, out _);
            queue.Enqueue(uid);
        }
    }
}
