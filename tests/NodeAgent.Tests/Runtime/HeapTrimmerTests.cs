namespace BranchEni.Agent.Tests.Runtime;

public sealed class HeapTrimmerTests
{
    private static readonly HeapTrimmer.TrimSettings Defaults = HeapTrimmer.TrimSettings.Default;

    [Fact]
    public void It_trims_only_when_enough_was_allocated_the_queue_has_been_idle_and_the_last_trim_is_not_too_recent()
    {
        var enough = Defaults.MinAllocated;
        var idle = Defaults.MinIdle;
        var interval = Defaults.MinInterval;
        Assert.True(Defaults.ShouldTrim(enough, idle, interval));
        Assert.False(Defaults.ShouldTrim(enough - 1, idle, interval));
        Assert.False(Defaults.ShouldTrim(enough, idle - TimeSpan.FromMilliseconds(1), interval));
        Assert.False(Defaults.ShouldTrim(enough, idle, interval - TimeSpan.FromMilliseconds(1)));
    }

    [Fact]
    public async Task A_busy_queue_is_never_trimmed_and_an_idle_one_is_once_garbage_was_made()
    {
        // The interval is long against the checks' waits: a trim observed late on a loaded machine (CI once saw a second
        // trim with 300 ms) must not let the interval run out before the "not again yet" check.
        var settings = new HeapTrimmer.TrimSettings(TimeSpan.FromMilliseconds(20), MinIdle: TimeSpan.FromMilliseconds(60),
            MinInterval: TimeSpan.FromSeconds(2), MinAllocated: 4 * 1024 * 1024);
        var idle = false;
        var trimmer = new HeapTrimmer(() => Volatile.Read(ref idle), Serilog.Core.Logger.None, settings);
        using var stop = new CancellationTokenSource();
        var run = trimmer.RunAsync(stop.Token);

        // Busy for longer than the interval and the idle time together, with garbage made: no trim.
        MakeGarbage(8 * 1024 * 1024);
        await Task.Delay(2300);
        Assert.Equal(0, trimmer.Trims);

        Volatile.Write(ref idle, true);
        for (var waited = 0; trimmer.Trims == 0 && waited < 10000; waited += 20)
        {
            await Task.Delay(20);
        }

        Assert.Equal(1, trimmer.Trims);
        // Garbage again at once, still idle: not before the interval has passed since the last trim.
        MakeGarbage(8 * 1024 * 1024);
        await Task.Delay(150);
        Assert.Equal(1, trimmer.Trims);

        await stop.CancelAsync();
        await run;
    }

    private static void MakeGarbage(int bytes)
    {
        for (var made = 0; made < bytes; made += 64 * 1024)
        {
            GC.KeepAlive(new byte[64 * 1024]);
        }
    }
}
