using System.Net;
using System.Text;
using Serilog;

namespace BranchEni.Agent.Observability;

/// <summary>
/// /healthz (the process and its loops are alive), /readyz (trunk ready and informers synced), /metrics (Prometheus
/// text) on a loopback address; with <see cref="MetricsOnly"/>, just /metrics (the scrape address, reachable from the
/// cluster: probes stay on loopback). HttpListener keeps the agent off ASP.NET (smaller, faster start, lower RSS).
/// </summary>
internal sealed class HealthServer(IPEndPoint endpoint, AgentMetrics metrics, Func<bool> healthy, Func<string?> notReadyReason, ILogger log) : IDisposable
{
    private readonly HttpListener _listener = new();

    public bool MetricsOnly { get; init; }

    public void Start()
    {
        // HttpListener takes "*" for every address; an IPv4/IPv6 literal binds just that one.
        var host = endpoint.Address.Equals(IPAddress.Any) || endpoint.Address.Equals(IPAddress.IPv6Any) ? "*" : endpoint.ToString();
        _listener.Prefixes.Add(host == "*" ? $"http://*:{endpoint.Port}/" : $"http://{host}/");
        _listener.Start();
        log.Information(MetricsOnly ? "Serving /metrics on http://{Endpoint}/" : "Serving /healthz, /readyz, /metrics on http://{Endpoint}/", endpoint.ToString());
    }

    public async Task RunAsync(CancellationToken ct)
    {
        using var registration = ct.Register(_listener.Stop);
        while (!ct.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            try
            {
                Answer(context);
            }
            catch (Exception e) when (e is HttpListenerException or IOException)
            {
                log.Debug("Health request failed: {Error}", e.Message);
            }
        }
    }

    private void Answer(HttpListenerContext context)
    {
        var path = context.Request.Url?.AbsolutePath;
        var (status, body, type) = (MetricsOnly && path != "/metrics" ? null : path) switch
        {
            "/healthz" => healthy() ? (200, "ok\n", "text/plain") : (503, "unhealthy\n", "text/plain"),
            "/readyz" => notReadyReason() is { } why ? (503, why + "\n", "text/plain") : (200, "ready\n", "text/plain"),
            "/metrics" => (200, metrics.Render(), "text/plain; version=0.0.4"),
            _ => (404, "not found\n", "text/plain"),
        };
        var bytes = Encoding.UTF8.GetBytes(body);
        context.Response.StatusCode = status;
        context.Response.ContentType = type;
        context.Response.ContentLength64 = bytes.Length;
        context.Response.OutputStream.Write(bytes);
        context.Response.Close();
    }

    public void Dispose() => ((IDisposable)_listener).Dispose();
}
