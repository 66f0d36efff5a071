using System.Threading.Channels;

namespace BranchEni.Agent.Kubernetes;

/// <summary>
/// Keys to reconcile, processed by several workers with at most one in flight per key (client-go's semantics): a
/// key queued while it is being processed is remembered and processed again right after, never concurrently, and a
/// key queued twice before a worker takes it is processed once. A key whose processing failed is requeued with its own
/// exponential backoff (client-go's per-item rate limiter) until it succeeds and is forgotten.
/// </summary>
internal sealed class WorkQueue
{
    /// <summary>The first retry's delay; each failure in a row doubles it, up to <see cref="MaxRetryDelay"/>.</summary>
    public static readonly TimeSpan BaseRetryDelay = TimeSpan.FromMilliseconds(400);

    public static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(30);

    private readonly Dictionary<string, int> _failures = new(StringComparer.Ordinal);
    private readonly Channel<string> _ready = Channel.CreateUnbounded<string>();
    private readonly HashSet<string> _queued = new(StringComparer.Ordinal);
    private readonly HashSet<string> _processing = new(StringComparer.Ordinal);
    private readonly HashSet<string> _dirty = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public int Pending
    {
        get
        {
            lock (_lock)
            {
                return _queued.Count + _dirty.Count;
            }
        }
    }

    /// <summary>Nothing queued and nothing being processed.</summary>
    public bool Idle
    {
        get
        {
            lock (_lock)
            {
                return _queued.Count + _dirty.Count + _processing.Count == 0;
            }
        }
    }

    public void Enqueue(string key)
    {
        lock (_lock)
        {
            if (_processing.Contains(key))
            {
                _dirty.Add(key);
                return;
            }

            if (_queued.Add(key))
            {
                _ready.Writer.TryWrite(key);
            }
        }
    }

    /// <summary>Enqueues after a delay (retry, cooldown). Cancelled delays are dropped silently.</summary>
    public void EnqueueAfter(string key, TimeSpan delay, CancellationToken ct)
    {
        if (delay <= TimeSpan.Zero)
        {
            Enqueue(key);
            return;
        }

        _ = Task.Delay(delay, ct).ContinueWith(t =>
        {
            if (!t.IsCanceled)
            {
                Enqueue(key);
            }
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>The key failed: it is queued again after its backoff (400 ms, doubling with each failure in a row, at most
    /// 30 s), which is returned.</summary>
    public TimeSpan Retry(string key, CancellationToken ct)
    {
        int failures;
        lock (_lock)
        {
            failures = _failures[key] = _failures.GetValueOrDefault(key) + 1;
        }

        var delay = TimeSpan.FromTicks(Math.Min(MaxRetryDelay.Ticks, BaseRetryDelay.Ticks << Math.Min(failures - 1, 16)));
        EnqueueAfter(key, delay, ct);
        return delay;
    }

    /// <summary>The key succeeded (or is gone): its next failure starts again from the first delay.</summary>
    public void Forget(string key)
    {
        lock (_lock)
        {
            _failures.Remove(key);
        }
    }

    /// <summary>Runs <paramref name="workers"/> loops calling <paramref name="process"/> until <paramref name="stop"/>;
    /// a key's process call always ends before that key is handed out again. In-flight calls get
    /// <paramref name="abort"/>, which the caller cancels later than <paramref name="stop"/> so they can finish.</summary>
    public Task RunAsync(int workers, Func<string, CancellationToken, Task> process, CancellationToken stop, CancellationToken abort) =>
        Task.WhenAll(Enumerable.Range(0, workers).Select(_ => Task.Run(() => WorkerAsync(process, stop, abort), CancellationToken.None)));

    private async Task WorkerAsync(Func<string, CancellationToken, Task> process, CancellationToken ct, CancellationToken abort)
    {
        try
        {
            while (await _ready.Reader.WaitToReadAsync(ct).ConfigureAwait(false))
            {
                if (!_ready.Reader.TryRead(out var key))
                {
                    continue;
                }

                lock (_lock)
                {
                    _queued.Remove(key);
                    _processing.Add(key);
                }

                try
                {
                    await process(key, abort).ConfigureAwait(false);
                }
                finally
                {
                    Done(key);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    private void Done(string key)
    {
        lock (_lock)
        {
            _processing.Remove(key);
            if (_dirty.Remove(key) && _queued.Add(key))
            {
                _ready.Writer.TryWrite(key);
            }
        }
    }
}
