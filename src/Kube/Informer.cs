using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Serilog;

namespace BranchEni.Kube;

/// <summary>What an informer watches and how it reads one object.</summary>
/// <param name="Name">For logs ("pods", "securitygrouppolicies").</param>
/// <param name="Path">Collection path, e.g. /api/v1/pods.</param>
/// <param name="Query">Extra query (e.g. "fieldSelector=spec.nodeName%3Dn1"), without '?'; may be empty.</param>
/// <param name="Parse">Object JSON → the cached value; throwing marks the object bad (reported, skipped).</param>
public sealed record InformerSource<T>(string Name, string Path, string Query, Func<JsonElement, T> Parse)
    where T : class;

/// <summary>
/// A resource informer (STYLE.md, YARP's controller): paged list, synthetic deletes for objects that vanished while
/// not watching, watch from the last resourceVersion with bookmarks, a fresh list on 410 Gone, jittered backoff
/// between reconnects, and an idle watchdog that restarts a watch that went silent. The AOT client cannot stream
/// watches, so lines are read from the raw response and each event is parsed here. Shared by the agent (its node's pods,
/// policies, service accounts) and the controller (policies and service accounts for its webhooks).
/// </summary>
public sealed class Informer<T>(KubeConnection api, InformerSource<T> source, ILogger log)
    where T : class
{
    private readonly ConcurrentDictionary<string, T> _cache = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _synced = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string? _resourceVersion;

    /// <summary>Called for every change: (old, new); old null = added, new null = deleted.</summary>
    public Action<T?, T?>? Changed { get; set; }

    /// <summary>Called for an object that does not parse (key, problem, raw object).</summary>
    public Action<string, string, JsonElement>? Bad { get; set; }

    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(5);

    public int PageSize { get; init; } = 500;

    public Task Synced => _synced.Task;

    public bool IsSynced => _synced.Task.IsCompleted;

    public IReadOnlyCollection<T> Items => (IReadOnlyCollection<T>)_cache.Values;

    public T? Get(string key) => _cache.TryGetValue(key, out var value) ? value : null;

    /// <summary>Lists and watches until cancelled; never throws for API trouble (logs and backs off).</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        var failures = 0;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (_resourceVersion is null)
                {
                    await ListAsync(ct).ConfigureAwait(false);
                }

                await WatchAsync(ct).ConfigureAwait(false);
                failures = 0;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (GoneException)
            {
                log.Information("Watch of {Resource} expired (410); listing again", source.Name);
                _resourceVersion = null;
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                failures++;
                var delay = TimeSpan.FromMilliseconds(Random.Shared.Next(50, 100) * Math.Pow(2, Math.Min(failures, 9)));
                log.Warning("Informer {Resource} failed ({Error}); retrying in {DelayMs} ms", source.Name, e.Message, (int)delay.TotalMilliseconds);

                // Stopping during the backoff is a normal end, not an error (the loop condition then returns).
                await Task.Delay(delay, ct).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
            }
        }
    }

    private async Task ListAsync(CancellationToken ct)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        string? continueToken = null;
        string? version;
        do
        {
            var query = Query($"limit={PageSize}" + (continueToken is null ? "" : "&continue=" + Uri.EscapeDataString(continueToken)));
            using var response = await api.GetAsync(source.Path + query, ct).ConfigureAwait(false);
            await EnsureSuccessAsync(response, ct).ConfigureAwait(false);
            using var doc = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false), cancellationToken: ct).ConfigureAwait(false);
            var metadata = doc.RootElement.GetProperty("metadata");
            version = metadata.TryGetProperty("resourceVersion", out var rv) ? rv.GetString() : null;
            continueToken = metadata.TryGetProperty("continue", out var c) && c.GetString() is { Length: > 0 } next ? next : null;
            if (doc.RootElement.TryGetProperty("items", out var items) && items.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in items.EnumerateArray())
                {
                    if (Upsert(item) is { } key)
                    {
                        seen.Add(key);
                    }
                }
            }
        }
        while (continueToken is not null);

        // Objects deleted while no watch was running get their delete now.
        foreach (var key in _cache.Keys.Where(k => !seen.Contains(k)).ToList())
        {
            if (_cache.TryRemove(key, out var gone))
            {
                Changed?.Invoke(gone, null);
            }
        }

        _resourceVersion = version ?? throw new InformerException($"list of {source.Name} has no resourceVersion");
        log.Debug("Listed {Count} {Resource} at resourceVersion {ResourceVersion}", _cache.Count, source.Name, _resourceVersion);
        _synced.TrySetResult();
    }

    private async Task WatchAsync(CancellationToken ct)
    {
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(ct);
        idle.CancelAfter(IdleTimeout);
        var query = Query($"watch=true&allowWatchBookmarks=true&resourceVersion={Uri.EscapeDataString(_resourceVersion!)}&timeoutSeconds={(int)Math.Max(1, IdleTimeout.TotalSeconds * 2)}");
        try
        {
            using var response = await api.GetAsync(source.Path + query, idle.Token).ConfigureAwait(false);
            await EnsureSuccessAsync(response, ct).ConfigureAwait(false);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(idle.Token).ConfigureAwait(false));
            while (await reader.ReadLineAsync(idle.Token).ConfigureAwait(false) is { } line)
            {
                idle.CancelAfter(IdleTimeout);
                if (line.Length > 0)
                {
                    HandleEvent(line);
                }
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            log.Information("Watch of {Resource} was idle for {Seconds} s; restarting it", source.Name, (int)IdleTimeout.TotalSeconds);
        }
    }

    private void HandleEvent(string line)
    {
        using var doc = JsonDocument.Parse(line);
        var type = doc.RootElement.GetProperty("type").GetString();
        var obj = doc.RootElement.GetProperty("object");
        switch (type)
        {
            case "ADDED" or "MODIFIED":
                Upsert(obj);
                break;
            case "DELETED":
                if (KeyOf(obj) is { } key && _cache.TryRemove(key, out var gone))
                {
                    Changed?.Invoke(gone, null);
                }

                break;
            case "BOOKMARK":
                break;
            case "ERROR":
                var code = obj.TryGetProperty("code", out var c) && c.TryGetInt32(out var n) ? n : 0;
                throw code == 410 ? new GoneException() : new InformerException($"watch of {source.Name} sent error {code}: {obj}");
            default:
                throw new InformerException($"watch of {source.Name} sent event type '{type}'");
        }

        if (ResourceVersionOf(obj) is { } rv)
        {
            _resourceVersion = rv;
        }
    }

    private string? Upsert(JsonElement obj)
    {
        var key = KeyOf(obj);
        if (key is null)
        {
            return null;
        }

        T value;
        try
        {
            value = source.Parse(obj);
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or BranchEni.Policy.PolicyFormatException)
        {
            Bad?.Invoke(key, e.Message, obj);
            if (_cache.TryRemove(key, out var old))
            {
                Changed?.Invoke(old, null);
            }

            return key;
        }

        _cache.TryGetValue(key, out var previous);
        _cache[key] = value;
        Changed?.Invoke(previous, value);
        return key;
    }

    private string Query(string extra) => "?" + (source.Query.Length > 0 ? source.Query + "&" : "") + extra;

    private static string? KeyOf(JsonElement obj)
    {
        if (!obj.TryGetProperty("metadata", out var m) || !m.TryGetProperty("name", out var name))
        {
            return null;
        }

        return m.TryGetProperty("namespace", out var ns) && ns.GetString() is { Length: > 0 } n ? $"{n}/{name.GetString()}" : name.GetString();
    }

    private static string? ResourceVersionOf(JsonElement obj) =>
        obj.TryGetProperty("metadata", out var m) && m.TryGetProperty("resourceVersion", out var rv) ? rv.GetString() : null;

    private async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken ct)
    {
        if (response.StatusCode == HttpStatusCode.Gone)
        {
            throw new GoneException();
        }

        if (!response.IsSuccessStatusCode)
        {
            var body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            throw new InformerException($"{source.Name}: API server answered {(int)response.StatusCode}: {body[..Math.Min(body.Length, 300)]}");
        }
    }

    private sealed class GoneException : Exception;
}

public sealed class InformerException(string message) : Exception(message);
