using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using BranchEni.Sandbox.Kubernetes.Tables;
using Microsoft.AspNetCore.Http;

namespace BranchEni.Sandbox.Kubernetes;

/// <summary>List with selectors and limit/continue paging, and watch as newline-delimited JSON events.</summary>
internal sealed partial class KubernetesService
{
    /// <summary>How often an idle watch that asked for bookmarks gets one (the real server: about a minute).</summary>
    public static readonly TimeSpan BookmarkInterval = TimeSpan.FromSeconds(1);

    private JsonObject ListObjects(HttpRequest request, ApiPath api)
    {
        var matches = Selectors.Compile(api.Type, request.Query["labelSelector"], request.Query["fieldSelector"]);
        var (items, revision) = store.List(api.Type, api.Namespace, matches);
        var limit = ParseLong(request.Query["limit"], "limit");
        var after = DecodeContinue(request.Query["continue"]);
        if (after is not null)
        {
            items = items.Where(o => string.CompareOrdinal(KubernetesStore.Key(Meta.Namespace(o), Meta.Name(o)), after) > 0).ToList();
        }

        var metadata = new JsonObject { ["resourceVersion"] = revision.ToString(CultureInfo.InvariantCulture) };
        if (limit is > 0 && items.Count > limit)
        {
            var last = items[(int)limit.Value - 1];
            metadata["continue"] = EncodeContinue(KubernetesStore.Key(Meta.Namespace(last), Meta.Name(last)));
            metadata["remainingItemCount"] = items.Count - limit.Value;
            items = items.Take((int)limit.Value).ToList();
        }

        return new JsonObject
        {
            ["kind"] = api.Type.ListKind,
            ["apiVersion"] = api.Type.GroupVersion,
            ["metadata"] = metadata,
            ["items"] = new JsonArray(items.Select(i => (JsonNode)i).ToArray()),
        };
    }

    private async Task WatchAsync(HttpContext context, ApiPath api)
    {
        var request = context.Request;
        var matches = Selectors.Compile(api.Type, request.Query["labelSelector"], request.Query["fieldSelector"]);
        var from = ParseLong(request.Query["resourceVersion"], "resourceVersion");
        var bookmarks = request.Query["allowWatchBookmarks"].ToString() is "true" or "1";
        var timeout = ParseLong(request.Query["timeoutSeconds"], "timeoutSeconds") is { } seconds ? TimeSpan.FromSeconds(seconds) : TimeSpan.FromMinutes(30);
        // kubectl get --watch asks for Tables: each event's object is then a one-row Table of that object.
        var table = TableRequest.From(request);
        var (watcher, initial) = store.Watch(api.Type, api.Namespace, from, matches);
        try
        {
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/json";
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
            deadline.CancelAfter(timeout);
            foreach (var e in initial)
            {
                await WriteEventAsync(context, e.Type, Shape(api.Type, e, table)).ConfigureAwait(false);
            }

            await context.Response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
            await PumpAsync(context, api.Type, watcher, bookmarks, table, deadline.Token).ConfigureAwait(false);
        }
        finally
        {
            store.Unwatch(watcher);
        }
    }

    private async Task PumpAsync(HttpContext context, ResourceType type, Watcher watcher, bool bookmarks, TableRequest? table, CancellationToken deadline)
    {
        var reader = watcher.Events.Reader;
        while (!deadline.IsCancellationRequested)
        {
            using var tick = CancellationTokenSource.CreateLinkedTokenSource(deadline);
            tick.CancelAfter(BookmarkInterval);
            try
            {
                if (!await reader.WaitToReadAsync(tick.Token).ConfigureAwait(false))
                {
                    return;
                }

                while (reader.TryRead(out var e))
                {
                    await WriteEventAsync(context, e.Type, Shape(type, e, table)).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (!deadline.IsCancellationRequested)
            {
                if (!bookmarks)
                {
                    continue;
                }

                var bookmark = new JsonObject
                {
                    ["kind"] = type.Kind,
                    ["apiVersion"] = type.GroupVersion,
                    ["metadata"] = new JsonObject { ["resourceVersion"] = store.Revision.ToString(CultureInfo.InvariantCulture) },
                };
                await WriteEventAsync(context, "BOOKMARK", bookmark).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            await context.Response.Body.FlushAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>An object event as the watch asked for it; an ERROR event's Status stays a Status.</summary>
    private static JsonObject Shape(ResourceType type, WatchEvent e, TableRequest? table) =>
        table is null || e.Type is not ("ADDED" or "MODIFIED" or "DELETED") ? e.Object : TableConverter.FromObject(type, e.Object, table, DateTime.UtcNow);

    private static async Task WriteEventAsync(HttpContext context, string type, JsonObject obj)
    {
        var line = new JsonObject { ["type"] = type, ["object"] = obj.DeepClone() }.ToJsonString(Meta.Output) + "\n";
        await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(line)).ConfigureAwait(false);
    }

    private static long? ParseLong(string? text, string name)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw KubeException.BadRequest($"invalid value for {name}: \"{text}\"");
    }

    private static string EncodeContinue(string key) => Convert.ToBase64String(Encoding.UTF8.GetBytes("k1:" + key));

    private static string? DecodeContinue(string? token)
    {
        if (string.IsNullOrEmpty(token))
        {
            return null;
        }

        try
        {
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(token));
            if (text.StartsWith("k1:", StringComparison.Ordinal))
            {
                return text[3..];
            }
        }
        catch (FormatException)
        {
            // Answered below like the API server answers a continue token it did not issue.
        }

        throw KubeException.BadRequest("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)");
    }
}
