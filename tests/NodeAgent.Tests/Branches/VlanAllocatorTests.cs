using BranchEni.Agent.Branches;

namespace BranchEni.Agent.Tests.Branches;

public sealed class VlanAllocatorTests
{
    [Fact]
    public void Allocates_the_lowest_free_id_and_reuses_released_ones()
    {
        var vlans = new VlanAllocator(3);
        Assert.Equal(1, vlans.TryAllocate());
        Assert.Equal(2, vlans.TryAllocate());
        Assert.Equal(3, vlans.TryAllocate());
        Assert.Null(vlans.TryAllocate());
        vlans.Release(2);
        Assert.Equal(1, vlans.Free);
        Assert.Equal(2, vlans.TryAllocate());
    }

    [Fact]
    public void Reserving_found_ids_refuses_duplicates_and_out_of_range()
    {
        var vlans = new VlanAllocator(9);
        Assert.True(vlans.TryReserve(2));
        Assert.False(vlans.TryReserve(2));
        Assert.False(vlans.TryReserve(0));
        Assert.False(vlans.TryReserve(10));
        Assert.Equal(1, vlans.TryAllocate());
        Assert.Equal(3, vlans.TryAllocate());
        Assert.Equal(3, vlans.InUse);
    }

    [Fact]
    public void The_limit_cannot_exceed_4094()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new VlanAllocator(4095));
        var big = new VlanAllocator(4094);
        Assert.True(big.TryReserve(4094));
    }

    [Fact]
    public void Parallel_allocations_never_hand_out_one_id_twice()
    {
        var vlans = new VlanAllocator(120);
        var ids = new System.Collections.Concurrent.ConcurrentBag<int?>();
        Parallel.For(0, 200, _ => ids.Add(vlans.TryAllocate()));
        var given = ids.OfType<int>().ToList();
        Assert.Equal(120, given.Count);
        Assert.Equal(120, given.Distinct().Count());
        Assert.Equal(80, ids.Count(i => i is null));
    }
}
