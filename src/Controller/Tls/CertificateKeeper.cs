using System.Security.Cryptography.X509Certificates;
using Serilog;

namespace BranchEni.Controller.Tls;

/// <summary>
/// The certificate Kestrel serves, kept current without a restart: Kestrel asks <see cref="Current"/> for every new
/// TLS connection (ServerCertificateSelector). Two sources: the controller's own CA in its Secret (renewed before
/// expiry; the webhook configurations' caBundle follows), or cert-manager's mounted files (re-read when they change;
/// the configurations' caBundle is then cert-manager's to inject).
/// </summary>
internal sealed class CertificateKeeper(TlsSecretStore? store, WebhookConfigurations? configurations, ServingNames names,
    (string Cert, string Key)? files, ILogger log)
{
    private X509Certificate2? _current;
    private string? _servedPem;
    private DateTime _filesWritten;

    public X509Certificate2? Current => Volatile.Read(ref _current);

    /// <summary>How often the Secret (another replica may have renewed), the files and the configurations are checked.</summary>
    public TimeSpan CheckInterval { get; init; } = TimeSpan.FromMinutes(1);

    public Func<DateTimeOffset> Clock { get; init; } = () => DateTimeOffset.UtcNow;

    /// <summary>Seconds until the served certificate expires (for /metrics), or null before one is loaded.</summary>
    public double? SecondsToExpiry => Current is { } c ? (c.NotAfter.ToUniversalTime() - Clock().UtcDateTime).TotalSeconds : null;

    public async Task RunAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await CheckOnceAsync(ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // Any failure (API down, RBAC, a bad file) is retried: the certificate already served stays in use.
                log.Warning("Webhook certificate check failed ({Error}); trying again in {Seconds} s", e.Message, (int)CheckInterval.TotalSeconds);
            }

            await Task.Delay(CheckInterval, ct).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
        }
    }

    /// <summary>One pass: load or renew the certificate, then point the configurations at it.</summary>
    public async Task CheckOnceAsync(CancellationToken ct)
    {
        if (files is { } f)
        {
            LoadFilesIfChanged(f.Cert, f.Key);
            return;
        }

        var material = await store!.EnsureAsync(names, Clock(), ct).ConfigureAwait(false);
        if (material.Certificate != _servedPem)
        {
            Serve(material.ServingCertificate(), material.Certificate);
        }

        await configurations!.ReconcileAsync(material.CaBundle, ct).ConfigureAwait(false);
    }

    private void LoadFilesIfChanged(string certFile, string keyFile)
    {
        // Kubelet swaps a mounted Secret's files through a symlink: the newest write time of the two tells a change.
        var written = new[] { File.GetLastWriteTimeUtc(certFile), File.GetLastWriteTimeUtc(keyFile) }.Max();
        if (written == _filesWritten && Current is not null)
        {
            return;
        }

        var pem = File.ReadAllText(certFile);
        Serve(X509Certificate2.CreateFromPem(pem, File.ReadAllText(keyFile)), pem);
        _filesWritten = written;
    }

    private void Serve(X509Certificate2 certificate, string pem)
    {
        // The previous certificate is left to the GC: a handshake in flight may still be using it.
        Volatile.Write(ref _current, certificate);
        _servedPem = pem;
        log.Information("Serving webhook certificate {Subject}, valid until {NotAfter:o}", certificate.Subject, certificate.NotAfter.ToUniversalTime());
    }
}
