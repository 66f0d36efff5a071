using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace BranchEni.Sandbox.Kubernetes.Admission;

/// <summary>A webhook could not be called or answered nonsense: the failurePolicy decides. The message is the cause.</summary>
internal sealed class WebhookCallException(string reason) : Exception(reason);

/// <summary>
/// POSTs AdmissionReviews over HTTPS as the API server does: the server certificate must chain to the webhook's
/// clientConfig.caBundle and only to it (no system roots; without a caBundle the system roots, as on a real server)
/// and name the URL's host (an IP address must be an IP SAN); the call gets timeoutSeconds (sent as ?timeout=Ns
/// too). Failures are worded like the Go client's ("Post \"URL\": dial tcp …: connect: connection refused").
/// </summary>
internal sealed class WebhookCaller : IDisposable
{
    /// <summary>One client per CA bundle, so connections are reused across calls (the agent annotates pods in bursts).</summary>
    private readonly ConcurrentDictionary<string, HttpClient> _clients = new(StringComparer.Ordinal);

    public WebhookCaller() => _ = Task.Run(TlsWarmUp.RunAsync);

    public async Task<string> PostAsync(Webhook webhook, string reviewJson, CancellationToken cancellationToken)
    {
        var address = webhook.Client.Describe(webhook.TimeoutSeconds);
        var client = Client(webhook.Client.CaBundle);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(webhook.TimeoutSeconds));
        try
        {
            using var content = new StringContent(reviewJson, Encoding.UTF8, "application/json");
            using var request = new HttpRequestMessage(HttpMethod.Post, address) { Content = content };
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            using var response = await client.SendAsync(request, deadline.Token).ConfigureAwait(false);
            var body = await response.Content.ReadAsStringAsync(deadline.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                var shown = body.Length > 200 ? body[..200] : body;
                throw new WebhookCallException($"failed to call webhook: an error on the server (\"{shown.Trim()}\") has prevented the request from succeeding");
            }

            return body;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new WebhookCallException($"failed to call webhook: Post \"{address}\": context deadline exceeded");
        }
        catch (HttpRequestException e)
        {
            throw new WebhookCallException($"failed to call webhook: Post \"{address}\": {Cause(e, new Uri(address))}");
        }
    }

    public void Dispose()
    {
        foreach (var client in _clients.Values)
        {
            client.Dispose();
        }

        _clients.Clear();
    }

    private HttpClient Client(string? caBundle) => _clients.GetOrAdd(caBundle ?? "", bundle =>
    {
        var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(1), UseProxy = false };
        if (bundle.Length > 0)
        {
            var policy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                RevocationMode = X509RevocationMode.NoCheck,
            };
            policy.CustomTrustStore.AddRange(Certificates(bundle));
            handler.SslOptions.CertificateChainPolicy = policy;
        }

        return new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    });

    /// <summary>The PEM certificates of a base64 caBundle; one that holds none trusts nothing (every call fails).</summary>
    private static X509Certificate2Collection Certificates(string caBundle)
    {
        var certificates = new X509Certificate2Collection();
        try
        {
            certificates.ImportFromPem(Encoding.ASCII.GetString(Convert.FromBase64String(caBundle)));
        }
        catch (Exception e) when (e is FormatException or System.Security.Cryptography.CryptographicException)
        {
            // Validation accepted the base64; PEM that does not parse leaves the store empty, so no server is trusted.
        }

        return certificates;
    }

    private static string Cause(HttpRequestException e, Uri address)
    {
        var hostPort = $"{address.Host}:{address.Port}";
        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
        {
            switch (inner)
            {
                case SocketException { SocketErrorCode: SocketError.ConnectionRefused }:
                    return $"dial tcp {hostPort}: connect: connection refused";
                case SocketException s:
                    return $"dial tcp {hostPort}: {s.Message}";
                // Go checks the chain before the name, so a certificate wrong in both ways is "unknown authority".
                case AuthenticationException a when !a.Message.Contains("RemoteCertificateChainErrors", StringComparison.Ordinal)
                    && a.Message.Contains("RemoteCertificateNameMismatch", StringComparison.Ordinal):
                    return $"tls: failed to verify certificate: x509: certificate is not valid for {address.Host}";
                case AuthenticationException:
                    return "tls: failed to verify certificate: x509: certificate signed by unknown authority";
            }
        }

        return e.Message;
    }
}
