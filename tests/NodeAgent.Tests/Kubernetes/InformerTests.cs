using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using BranchEni.Agent.Kubernetes;
using BranchEni.Kube;

namespace BranchEni.Agent.Tests.Kubernetes;

/// <summary>
/// The informer's protocol behaviour (paged list, watch from resourceVersion, 410 → re-list with synthetic deletes,
/// idle watchdog) through the real KubernetesClient against a scripted API endpoint on loopback: the sandbox's API
/// server cannot be told to expire a watch or go silent on cue, this one can.
/// </summary>
public sealed class InformerTests
{
    private static string Pod(string name, string uid, string rv, string phase = "Pending") =>
        $$$"""{"metadata": {"name": "{{{name}}}", "namespace": "app", "uid": "{{{uid}}}", "resourceVersion": "{{{rv}}}"}, "spec": {}, "status": {"phase": "{{{phase}}}"}}""";

    private static string List(string rv, string? next, params string[] items) =>
        $$$"""{"kind": "PodList", "metadata": {"resourceVersion": "{{{rv}}}"{{{(next is null ? "" : $", \"continue\": \"{next}\"")}}}}, "items": [{{{string.Join(",", items)}}}]}""";

    [Fact]
    public async Task Lists_in_pages_then_applies_watch_events_in_order()
    {
        await using var api = await ScriptedApi.StartAsync(async (request, response) =>
        {
            var q = request.QueryString;
            if (q["watch"] is null)
            {
                await response.WriteAllAsync(q["continue"] is null ? List("10", "page2", Pod("a", "ua", "5")) : List("10", null, Pod("b", "ub", "6")));
                return;
            }

            Assert.Equal("10", q["resourceVersion"]);
            await response.WriteLineAsync($$$"""{"type": "ADDED", "object": {{{Pod("c", "uc", "11")}}}}""");
            await response.WriteLineAsync($$$"""{"type": "MODIFIED", "object": {{{Pod("a", "ua", "12", "Running")}}}}""");
            await response.WriteLineAsync($$$"""{"type": "DELETED", "object": {{{Pod("b", "ub", "13")}}}}""");
            await response.WriteLineAsync("""{"type": "BOOKMARK", "object": {"metadata": {"resourceVersion": "14"}}}""");
            await Task.Delay(Timeout.Infinite, response.Aborted);
        });
        var (informer, changes, run, stop) = Start(api, TimeSpan.FromSeconds(30), pageSize: 1);
        await Eventually(() => changes.Count >= 5, () => string.Join(" | ", api.Requests) + " changes: " + string.Join(",", changes));

        Assert.Equal(["+a", "+b", "+c", "~a", "-b"], changes);
        Assert.Equal("Running", informer.Get("app/a")!.Phase);
        Assert.Null(informer.Get("app/b"));
        Assert.Equal(2, informer.Items.Count);
        Assert.Equal(2, api.Requests.Count(r => r.Contains("limit=1", StringComparison.Ordinal)));
        await stop.CancelAsync();
        await run;
    }

    [Fact]
    public async Task A_410_relists_and_objects_gone_meanwhile_get_a_synthetic_delete()
    {
        var lists = 0;
        await using var api = await ScriptedApi.StartAsync(async (request, response) =>
        {
            if (request.QueryString["watch"] is null)
            {
                var n = Interlocked.Increment(ref lists);
                await response.WriteAllAsync(n == 1 ? List("10", null, Pod("a", "ua", "5"), Pod("b", "ub", "6")) : List("20", null, Pod("b", "ub", "6")));
                return;
            }

            if (request.QueryString["resourceVersion"] == "10")
            {
                await response.WriteLineAsync("""{"type": "ERROR", "object": {"kind": "Status", "code": 410, "reason": "Expired", "message": "too old"}}""");
                return;
            }

            await Task.Delay(Timeout.Infinite, response.Aborted);
        });
        var (informer, changes, run, stop) = Start(api, TimeSpan.FromSeconds(30));
        await Eventually(() => changes.Contains("-a"));

        Assert.Equal(2, lists);
        Assert.Equal(["+a", "+b", "~b", "-a"], changes);
        Assert.Contains(api.Requests, r => r.Contains("watch=true", StringComparison.Ordinal) && r.Contains("resourceVersion=20", StringComparison.Ordinal));
        await stop.CancelAsync();
        await run;
    }

    [Fact]
    public async Task A_silent_watch_is_restarted_from_the_same_version_without_a_relist()
    {
        await using var api = await ScriptedApi.StartAsync(async (request, response) =>
        {
            if (request.QueryString["watch"] is null)
            {
                await response.WriteAllAsync(List("10", null, Pod("a", "ua", "5")));
                return;
            }

            await Task.Delay(Timeout.Infinite, response.Aborted);
        });
        var (_, _, run, stop) = Start(api, TimeSpan.FromMilliseconds(300));
        await Eventually(() => api.Requests.Count(r => r.Contains("watch=true", StringComparison.Ordinal)) >= 3);

        Assert.Single(api.Requests, r => !r.Contains("watch=true", StringComparison.Ordinal));
        Assert.All(api.Requests.Where(r => r.Contains("watch=true", StringComparison.Ordinal)), r => Assert.Contains("resourceVersion=10", r, StringComparison.Ordinal));
        await stop.CancelAsync();
        await run;
    }

    [Fact]
    public async Task Server_errors_are_retried_with_backoff_and_the_informer_syncs_once_the_server_answers()
    {
        var calls = 0;
        await using var api = await ScriptedApi.StartAsync(async (request, response) =>
        {
            if (Interlocked.Increment(ref calls) <= 2)
            {
                response.Raw.StatusCode = 500;
                await response.WriteAllAsync("""{"kind": "Status", "code": 500}""");
                return;
            }

            if (request.QueryString["watch"] is null)
            {
                await response.WriteAllAsync(List("10", null, Pod("a", "ua", "5")));
                return;
            }

            await Task.Delay(Timeout.Infinite, response.Aborted);
        });
        var (informer, _, run, stop) = Start(api, TimeSpan.FromSeconds(30));
        await informer.Synced.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.NotNull(informer.Get("app/a"));
        await stop.CancelAsync();
        await run;
    }

    private static (Informer<PodView>, ConcurrentQueue<string>, Task, CancellationTokenSource) Start(ScriptedApi api, TimeSpan idle, int pageSize = 500)
    {
        var kube = new KubeConnection(new k8s.Kubernetes(new k8s.KubernetesClientConfiguration { Host = api.Url, HttpClientTimeout = Timeout.InfiniteTimeSpan }));
        var informer = new Informer<PodView>(kube, new("pods", "/api/v1/pods", "fieldSelector=spec.nodeName%3Dn1", PodView.Parse), Serilog.Core.Logger.None)
        {
            IdleTimeout = idle,
            PageSize = pageSize,
        };
        var changes = new ConcurrentQueue<string>();
        informer.Changed += (old, current) => changes.Enqueue(current is null ? "-" + old!.Name : old is null ? "+" + current.Name : "~" + current.Name);
        var stop = new CancellationTokenSource();
        return (informer, changes, Task.Run(() => informer.RunAsync(stop.Token)), stop);
    }

    private static async Task Eventually(Func<bool> condition, Func<string>? state = null)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met within 10 s; " + state?.Invoke());
            await Task.Delay(20);
        }
    }
}

/// <summary>A loopback HTTP endpoint answering with a script; records each request's path and query.</summary>
internal sealed class ScriptedApi : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;

    public string Url { get; private set; } = "";

    public ConcurrentQueue<string> Requests { get; } = new();

    public static Task<ScriptedApi> StartAsync(Func<HttpListenerRequest, ScriptedResponse, Task> script)
    {
        var api = new ScriptedApi();
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            api.Url = $"http://127.0.0.1:{((IPEndPoint)probe.LocalEndpoint).Port}";
        }

        api._listener.Prefixes.Add(api.Url + "/");
        api._listener.Start();
        api._loop = Task.Run(async () =>
        {
            while (!api._stop.IsCancellationRequested)
            {
                HttpListenerContext context;
                try
                {
                    context = await api._listener.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
                {
                    return;
                }

                api.Requests.Enqueue(context.Request.Url!.PathAndQuery);
                _ = Task.Run(async () =>
                {
                    var response = new ScriptedResponse(context.Response, api._stop.Token);
                    try
                    {
                        await script(context.Request, response);
                        context.Response.Close();
                    }
                    catch (Exception e) when (e is OperationCanceledException or HttpListenerException or IOException or ObjectDisposedException)
                    {
                    }
                });
            }
        });
        return Task.FromResult(api);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        // Close alone: the managed listener's Close after a Stop looks its endpoint up again and binds the port anew,
        // which fails ("Address already in use") when another test took the port meanwhile (CI, once).
        _listener.Close();
        await _loop;
        _stop.Dispose();
    }
}

internal sealed class ScriptedResponse(HttpListenerResponse response, CancellationToken aborted)
{
    public HttpListenerResponse Raw => response;

    public CancellationToken Aborted => aborted;

    public async Task WriteAllAsync(string body)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        response.ContentType = "application/json";
        response.ContentLength64 = bytes.Length;
        await response.OutputStream.WriteAsync(bytes, aborted);
    }

    private bool _streaming;

    public async Task WriteLineAsync(string line)
    {
        if (!_streaming)
        {
            // Headers go out with the first chunk; they cannot change afterwards.
            response.SendChunked = true;
            response.ContentType = "application/json";
            _streaming = true;
        }

        var bytes = Encoding.UTF8.GetBytes(line + "\n");
        await response.OutputStream.WriteAsync(bytes, aborted);
        await response.OutputStream.FlushAsync(aborted);
    }
}
