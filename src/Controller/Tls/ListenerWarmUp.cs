using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Serilog;

namespace BranchEni.Controller.Tls;

/// <summary>
/// One TLS handshake and request against this replica's own webhook listener before it reports ready. A fresh process
/// pays for its first handshake (OpenSSL and SslStream set-up): 9 s measured in the demo's emulated VM, where the API
/// server's 5 s webhook timeout then failed the first admissions open. Paid here, it delays readiness instead, and the
/// Service sends no admission traffic to the replica until it can answer in time.
/// </summary>
internal sealed class ListenerWarmUp(IPEndPoint listener, Func<X509Certificate2?> current, ILogger log)
{
    private volatile bool _done;

    /// <summary>Whether the listener has answered over TLS once.</summary>
    public bool Done => _done;

    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    public async Task RunAsync(CancellationToken ct)
    {
        using var handler = new SocketsHttpHandler();
        // The replica's own certificate, whatever names it carries: only the one Kestrel serves is trusted.
        handler.SslOptions.RemoteCertificateValidationCallback = (_, presented, _, _) =>
            presented is not null && current() is { } served && presented.GetRawCertData().AsSpan().SequenceEqual(served.RawData);
        using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(60) };
        var target = new Uri($"https://{Loopback(listener)}/healthz");
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            if (current() is not null)
            {
                try
                {
                    using var response = await client.GetAsync(target, ct).ConfigureAwait(false);
                    if (response.IsSuccessStatusCode)
                    {
                        _done = true;
                        log.Information("Webhook listener answered over TLS after {Milliseconds} ms", (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                        return;
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
                {
                    log.Debug("Webhook listener warm-up: {Error}", e.Message);
                }
            }

            await Task.Delay(RetryDelay, ct).ConfigureAwait(false);
        }
    }

    /// <summary>Where to reach a listener from this host: a wildcard address is reached on loopback.</summary>
    internal static IPEndPoint Loopback(IPEndPoint listener) =>
        listener.Address.Equals(IPAddress.Any) ? new IPEndPoint(IPAddress.Loopback, listener.Port)
        : listener.Address.Equals(IPAddress.IPv6Any) ? new IPEndPoint(IPAddress.IPv6Loopback, listener.Port)
        : listener;
}
