using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace BranchEni.Sandbox.Kubernetes.Admission;

/// <summary>
/// One TLS handshake over loopback, client and server in this process, with the webhook calls' chain policy (custom
/// root trust). A real API server is a warm process; ours pays for its first handshake (OpenSSL and the chain engine
/// set up) inside the first webhook call, which in the demo's emulated VM took longer than the webhook's 5 s timeout,
/// so the first admissions failed open. Started with the API server, it is done long before a webhook is configured.
/// </summary>
internal static class TlsWarmUp
{
    public static async Task RunAsync()
    {
        try
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
            var names = new SubjectAlternativeNameBuilder();
            names.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(names.Build());
            using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(5));

            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            using var client = new TcpClient();
            var accepting = listener.AcceptTcpClientAsync();
            await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port).ConfigureAwait(false);
            using var accepted = await accepting.ConfigureAwait(false);
            await using var server = new SslStream(accepted.GetStream());
            await using var tls = new SslStream(client.GetStream());
            var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
            policy.CustomTrustStore.Add(certificate);
            await Task.WhenAll(
                server.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = certificate }),
                tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "127.0.0.1", CertificateChainPolicy = policy })).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or System.Security.Authentication.AuthenticationException or CryptographicException)
        {
            // Only a warm-up: the real call reports its own failure.
        }
    }
}
