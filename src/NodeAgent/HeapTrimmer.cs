using Serilog;

namespace BranchEni.Agent;

/// <summary>
/// Gives the GC heap's free memory back to the OS once a burst of work is over. The GC keeps what a burst committed:
/// with 100 branch pods the bench saw 11-13 MB of anonymous memory, of which about 6 MB remained after a full, compacting
/// collection. A node agent is idle most of its life, so once the work queue has stayed empty for
/// <see cref="TrimSettings.MinIdle"/> and the process has allocated at least <see cref="TrimSettings.MinAllocated"/>
/// since the last trim, one aggressive collection decommits the rest. At most one per
/// <see cref="TrimSettings.MinInterval"/>: steady churn costs at worst a blocking collection of a small heap (a few
/// milliseconds) every ten seconds.
/// </summary>
internal sealed class HeapTrimmer(Func<bool> idle, ILogger log, HeapTrimmer.TrimSettings? settings = null)
{
    internal sealed record TrimSettings(TimeSpan Tick, TimeSpan MinIdle, TimeSpan MinInterval, long MinAllocated)
    {
        public static TrimSettings Default { get; } = new(
            Tick: TimeSpan.FromSeconds(1), MinIdle: TimeSpan.FromSeconds(1), MinInterval: TimeSpan.FromSeconds(10),
            MinAllocated: 16L * 1024 * 1024);

        /// <summary>Whether to trim now: enough garbage made since the last trim, idle long enough, not too soon.</summary>
        public bool ShouldTrim(long allocatedSinceTrim, TimeSpan idleFor, TimeSpan sinceTrim) =>
            allocatedSinceTrim >= MinAllocated && idleFor >= MinIdle && sinceTrim >= MinInterval;
    }

    private readonly TrimSettings _settings = settings ?? TrimSettings.Default;
    private int _trims;

    /// <summary>How many trims ran.</summary>
    public int Trims => Volatile.Read(ref _trims);

    public async Task RunAsync(CancellationToken stop)
    {
        var clock = TimeProvider.System;
        using var timer = new PeriodicTimer(_settings.Tick);
        var lastTrim = clock.GetTimestamp();
        var allocatedAtTrim = GC.GetTotalAllocatedBytes();
        long? idleSince = null;
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                var now = clock.GetTimestamp();
                idleSince = idle() ? idleSince ?? now : null;
                var allocated = GC.GetTotalAllocatedBytes() - allocatedAtTrim;
                if (idleSince is not { } since
                    || !_settings.ShouldTrim(allocated, clock.GetElapsedTime(since, now), clock.GetElapsedTime(lastTrim, now)))
                {
                    continue;
                }

                var before = GC.GetGCMemoryInfo().TotalCommittedBytes;
                GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
                Interlocked.Increment(ref _trims);
                log.Debug("Heap trimmed after {AllocatedMb:F0} MB allocated: committed {BeforeMb:F1} -> {AfterMb:F1} MB",
                    allocated / 1048576.0, before / 1048576.0, GC.GetGCMemoryInfo().TotalCommittedBytes / 1048576.0);
                lastTrim = clock.GetTimestamp();
                allocatedAtTrim = GC.GetTotalAllocatedBytes();
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }
}
