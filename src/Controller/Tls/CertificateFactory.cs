using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace BranchEni.Controller.Tls;

/// <summary>
/// The controller's own small PKI (System.Security.Cryptography, the kept library): a CA and a serving certificate for
/// the webhook endpoint, both ECDSA P-256. The API server trusts the CA through the webhook configurations' caBundle.
/// </summary>
internal static class CertificateFactory
{
    public static readonly TimeSpan CaLifetime = TimeSpan.FromDays(5 * 365);

    public static readonly TimeSpan ServingLifetime = TimeSpan.FromDays(365);

    // Tolerates clocks behind ours (API server, other replica) right after issue.
    private static readonly TimeSpan Backdate = TimeSpan.FromMinutes(5);

    public static X509Certificate2 CreateCa(DateTimeOffset now, TimeSpan lifetime)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN=branch-eni-controller-ca-{now.ToUnixTimeSeconds()}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(now - Backdate, now + lifetime);
    }

    /// <summary>A serving certificate signed by <paramref name="ca"/> (which must carry its private key).</summary>
    public static X509Certificate2 CreateServing(X509Certificate2 ca, ServingNames names, DateTimeOffset now, TimeSpan lifetime)
    {
        ArgumentNullException.ThrowIfNull(ca);
        ArgumentNullException.ThrowIfNull(names);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={names.CommonName}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        foreach (var dns in names.DnsNames)
        {
            san.AddDnsName(dns);
        }

        foreach (var ip in names.IpAddresses)
        {
            san.AddIpAddress(ip);
        }

        request.CertificateExtensions.Add(san.Build(critical: false));
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, includeKeyIdentifier: true, includeIssuerAndSerial: false));

        // A serving certificate may not outlive its CA.
        var notAfter = now + lifetime < ca.NotAfter ? now + lifetime : new DateTimeOffset(ca.NotAfter.ToUniversalTime());
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7f; // positive, as RFC 5280 asks
        using var signed = request.Create(ca, now - Backdate, notAfter, serial);
        return signed.CopyWithPrivateKey(key);
    }

    /// <summary>Renewal is due once less than a third of the certificate's life remains (issue 17).</summary>
    public static bool NeedsRenewal(X509Certificate2 certificate, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var notBefore = new DateTimeOffset(certificate.NotBefore.ToUniversalTime());
        var notAfter = new DateTimeOffset(certificate.NotAfter.ToUniversalTime());
        return notAfter - now < (notAfter - notBefore) / 3;
    }

    /// <summary>The DNS names and IP addresses a serving certificate carries.</summary>
    public static (IReadOnlySet<string> Dns, IReadOnlySet<IPAddress> Ips) SubjectAlternativeNames(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var dns = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var ips = new HashSet<IPAddress>();
        foreach (var san in certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>())
        {
            dns.UnionWith(san.EnumerateDnsNames());
            ips.UnionWith(san.EnumerateIPAddresses());
        }

        return (dns, ips);
    }
}

/// <summary>The names the serving certificate must carry for the API server to reach the webhook by them.</summary>
internal sealed record ServingNames(string CommonName, IReadOnlyList<string> DnsNames, IReadOnlyList<IPAddress> IpAddresses)
{
    /// <summary>A Service's in-cluster names: name, name.ns, name.ns.svc (what the API server dials) and the FQDN.</summary>
    public static ServingNames ForService(string ns, string name) =>
        new($"{name}.{ns}.svc", [name, $"{name}.{ns}", $"{name}.{ns}.svc", $"{name}.{ns}.svc.cluster.local"], []);

    /// <summary>The host of a clientConfig.url: an IP address goes in as an IP SAN, a name as a DNS SAN.</summary>
    public static ServingNames ForUrl(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        var host = url.IdnHost.Trim('[', ']');
        return IPAddress.TryParse(host, out var ip) ? new(host, [], [ip]) : new(host, [host], []);
    }

    /// <summary>Whether the certificate carries every name (more is fine: an older Service alias, say).</summary>
    public bool CoveredBy(X509Certificate2 certificate)
    {
        var (dns, ips) = CertificateFactory.SubjectAlternativeNames(certificate);
        return DnsNames.All(dns.Contains) && IpAddresses.All(ips.Contains);
    }
}
