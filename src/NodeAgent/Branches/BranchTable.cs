using System.Collections.Concurrent;
using BranchEni.Policy;

namespace BranchEni.Agent.Branches;

/// <summary>
/// One pod's branch ENI as the agent tracks it. Created before the EC2 calls (so garbage collection never takes an
/// ENI that is being made), completed as each step succeeds. Only the work queue's worker for this pod changes it.
/// </summary>
internal sealed record BranchEntry
{
    public required string PodUid { get; init; }

    public required string PodNamespace { get; init; }

    public required string PodName { get; init; }

    public required int VlanId { get; init; }

    public string? EniId { get; init; }

    public string? MacAddress { get; init; }

    public string? PrivateIp { get; init; }

    public string? AssociationId { get; init; }

    /// <summary>The groups decided for the pod when its VLAN was taken (what the ENI is created with), then the ENI's
    /// groups as EC2 has them (the pod's sg.aws.tigera.io labels follow these).</summary>
    public IReadOnlyList<string> SecurityGroups { get; init; } = [];

    /// <summary>The pod's metadata access, decided with its groups; null for an entry rebuilt from EC2 after a restart
    /// (the record, when there is one, keeps what was decided).</summary>
    public MetadataAccess? MetadataAccess { get; init; }

    /// <summary>Set when the pod is gone or finished: the ENI is released at this time.</summary>
    public DateTime? ReleaseAt { get; init; }

    public bool IsComplete => EniId is not null && AssociationId is not null && MacAddress is not null && PrivateIp is not null;
}

/// <summary>The branch ENIs of this node by pod UID, plus the VLAN allocator they draw from.</summary>
internal sealed class BranchTable(VlanAllocator vlans)
{
    private readonly ConcurrentDictionary<string, BranchEntry> _entries = new(StringComparer.Ordinal);

    public VlanAllocator Vlans { get; } = vlans;

    public int Count => _entries.Count;

    public BranchEntry? Get(string podUid) => _entries.TryGetValue(podUid, out var e) ? e : null;

    public void Set(BranchEntry entry) => _entries[entry.PodUid] = entry;

    /// <summary>Forgets the pod's branch and frees its VLAN.</summary>
    public void Remove(BranchEntry entry)
    {
        if (_entries.TryRemove(entry.PodUid, out var removed))
        {
            Vlans.Release(removed.VlanId);
        }
    }

    public IReadOnlyList<BranchEntry> Snapshot() => [.. _entries.Values];

    public bool TracksEni(string eniId) => _entries.Values.Any(e => e.EniId == eniId);
}
