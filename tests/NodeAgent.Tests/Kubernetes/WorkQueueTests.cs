using System.Collections.Concurrent;
using BranchEni.Agent.Kubernetes;

namespace BranchEni.Agent.Tests.Kubernetes;

public sealed class WorkQueueTests
{
    [Fact]
    public async Task A_key_is_never_processed_twice_at_once_and_a_change_during_processing_is_not_lost()
    {
        var queue = new WorkQueue();
        var inFlight = new ConcurrentDictionary<string, int>();
        var overlaps = 0;
        var processed = new ConcurrentDictionary<string, int>();
        using var stop = new CancellationTokenSource();
        var run = queue.RunAsync(4, async (key, _) =>
        {
            if (inFlight.AddOrUpdate(key, 1, (_, n) => n + 1) > 1)
            {
                Interlocked.Increment(ref overlaps);
            }

            processed.AddOrUpdate(key, 1, (_, n) => n + 1);
            await Task.Delay(20);
            inFlight.AddOrUpdate(key, 0, (_, n) => n - 1);
        }, stop.Token, CancellationToken.None);

        for (var round = 0; round < 10; round++)
        {
            foreach (var key in new[] { "a", "b", "c" })
            {
                queue.Enqueue(key);
            }

            await Task.Delay(5);
        }

        while (queue.Pending > 0 || inFlight.Values.Any(v => v > 0))
        {
            await Task.Delay(10);
        }

        await stop.CancelAsync();
        await run;
        Assert.Equal(0, overlaps);
        Assert.All(new[] { "a", "b", "c" }, k => Assert.InRange(processed[k], 2, 10));
    }

    [Fact]
    public async Task It_is_idle_only_with_nothing_queued_and_nothing_in_flight()
    {
        var queue = new WorkQueue();
        Assert.True(queue.Idle);
        queue.Enqueue("a");
        Assert.False(queue.Idle);

        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stop = new CancellationTokenSource();
        var run = queue.RunAsync(1, async (_, _) =>
        {
            started.TrySetResult();
            await release.Task;
        }, stop.Token, CancellationToken.None);
        await started.Task;
        Assert.Equal(0, queue.Pending);
        Assert.False(queue.Idle); // taken from the queue, still being processed

        release.SetResult();
        for (var waited = 0; !queue.Idle && waited < 5000; waited += 10)
        {
            await Task.Delay(10);
        }

        Assert.True(queue.Idle);
        await stop.CancelAsync();
        await run;
    }

    [Fact]
    public async Task Keys_queued_twice_before_a_worker_takes_them_run_once()
    {
        var queue = new WorkQueue();
        queue.Enqueue("x");
        queue.Enqueue("x");
        queue.Enqueue("y");
        var seen = new ConcurrentBag<string>();
        using var stop = new CancellationTokenSource();
        var run = queue.RunAsync(1, (key, _) =>
        {
            seen.Add(key);
            return Task.CompletedTask;
        }, stop.Token, CancellationToken.None);
        while (seen.Count < 2)
        {
            await Task.Delay(5);
        }

        await Task.Delay(50);
        await stop.CancelAsync();
        await run;
        Assert.Equal(["x", "y"], seen.Order());
    }

    [Fact]
    public async Task Delayed_keys_arrive_after_the_delay()
    {
        var queue = new WorkQueue();
        var at = new TaskCompletionSource<DateTime>();
        using var stop = new CancellationTokenSource();
        var start = DateTime.UtcNow;
        queue.EnqueueAfter("later", TimeSpan.FromMilliseconds(150), stop.Token);
        var run = queue.RunAsync(1, (_, _) =>
        {
            at.TrySetResult(DateTime.UtcNow);
            return Task.CompletedTask;
        }, stop.Token, CancellationToken.None);
        var when = await at.Task.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.True(when - start >= TimeSpan.FromMilliseconds(140));
        await stop.CancelAsync();
        await run;
    }

    [Fact]
    public async Task A_failing_key_backs_off_on_its_own_doubling_to_the_cap_and_forgetting_starts_it_over()
    {
        var queue = new WorkQueue();
        using var stop = new CancellationTokenSource();
        var delays = Enumerable.Range(0, 9).Select(_ => queue.Retry("bad", stop.Token).TotalMilliseconds).ToList();

        Assert.Equal([400, 800, 1600, 3200, 6400, 12800, 25600, 30000, 30000], delays);
        Assert.Equal(400, queue.Retry("other", stop.Token).TotalMilliseconds);
        queue.Forget("bad");
        Assert.Equal(400, queue.Retry("bad", stop.Token).TotalMilliseconds);

        // The retry is a real requeue: the key comes back once its delay has passed.
        var back = new TaskCompletionSource<string>();
        var run = queue.RunAsync(1, (key, _) =>
        {
            back.TrySetResult(key);
            return Task.CompletedTask;
        }, stop.Token, CancellationToken.None);
        Assert.NotNull(await back.Task.WaitAsync(TimeSpan.FromSeconds(5)));
        await stop.CancelAsync();
        await run;
    }
}
