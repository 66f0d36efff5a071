namespace BranchEni.Agent.Branches;

/// <summary>
/// The trunk's VLAN ids: always the lowest free one in 1..limit (limit = the instance type's branch count, at most
/// 4094), so ids stay small and a restart that rebuilds the same set hands out the same next id. Thread-safe.
/// </summary>
internal sealed class VlanAllocator
{
    private readonly bool[] _used;
    private readonly Lock _lock = new();
    private int _inUse;

    public VlanAllocator(int limit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, Contracts.BranchEniParser.MaxVlanId);
        Limit = limit;
        _used = new bool[limit + 1];
    }

    public int Limit { get; }

    public int InUse
    {
        get
        {
            lock (_lock)
            {
                return _inUse;
            }
        }
    }

    public int Free => Limit - InUse;

    /// <summary>Takes the lowest free id, or null when all are in use.</summary>
    public int? TryAllocate()
    {
        lock (_lock)
        {
            for (var id = 1; id <= Limit; id++)
            {
                if (!_used[id])
                {
                    _used[id] = true;
                    _inUse++;
                    return id;
                }
            }

            return null;
        }
    }

    /// <summary>Marks an id found in use (restart: from ENI tags and records). False when it was already taken or is
    /// outside 1..limit, which the caller reports: two ENIs claiming one VLAN is a conflict, not a merge.</summary>
    public bool TryReserve(int id)
    {
        lock (_lock)
        {
            if (id < 1 || id > Limit || _used[id])
            {
                return false;
            }

            _used[id] = true;
            _inUse++;
            return true;
        }
    }

    public void Release(int id)
    {
        lock (_lock)
        {
            if (id >= 1 && id <= Limit && _used[id])
            {
                _used[id] = false;
                _inUse--;
            }
        }
    }
}
