using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace BranchEni.Controller.Tls;

/// <summary>
/// The controller's CA and serving certificate as PEM, the form they take in its Secret. <see cref="CaBundle"/> may
/// hold the previous CA after the next, so that while replicas switch over both serving certificates are trusted.
/// </summary>
internal sealed record TlsMaterial(string CaBundle, string CaKey, string Certificate, string Key)
{
    public const string CaBundleKey = "ca.crt";
    public const string CaKeyKey = "ca.key";
    public const string CertificateKey = "tls.crt";
    public const string KeyKey = "tls.key";

    /// <summary>Issues a fresh CA and serving certificate.</summary>
    public static TlsMaterial Create(ServingNames names, DateTimeOffset now)
    {
        using var ca = CertificateFactory.CreateCa(now, CertificateFactory.CaLifetime);
        return Issue(ca, ca.ExportCertificatePem(), names, now);
    }

    /// <summary>
    /// What to store next, or null when nothing is due: a new serving certificate when it nears expiry or lacks a name,
    /// and a new CA (with a new serving certificate) when the CA nears expiry, keeping the old CA in the bundle.
    /// </summary>
    public TlsMaterial? Renewed(ServingNames names, DateTimeOffset now)
    {
        using var ca = LoadCa();
        if (CertificateFactory.NeedsRenewal(ca, now))
        {
            using var next = CertificateFactory.CreateCa(now, CertificateFactory.CaLifetime);
            return Issue(next, next.ExportCertificatePem() + "\n" + ca.ExportCertificatePem(), names, now);
        }

        using var serving = X509Certificate2.CreateFromPem(Certificate);
        return CertificateFactory.NeedsRenewal(serving, now) || !names.CoveredBy(serving) ? Issue(ca, CaBundle, names, now) : null;
    }

    /// <summary>The serving certificate with its key, for Kestrel.</summary>
    public X509Certificate2 ServingCertificate() => X509Certificate2.CreateFromPem(Certificate, Key);

    /// <summary>The signing CA: the first certificate of the bundle, with its key.</summary>
    public X509Certificate2 LoadCa() => X509Certificate2.CreateFromPem(CaBundle, CaKey);

    public IReadOnlyDictionary<string, byte[]> ToSecretData() => new Dictionary<string, byte[]>(StringComparer.Ordinal)
    {
        [CaBundleKey] = Encoding.ASCII.GetBytes(CaBundle),
        [CaKeyKey] = Encoding.ASCII.GetBytes(CaKey),
        [CertificateKey] = Encoding.ASCII.GetBytes(Certificate),
        [KeyKey] = Encoding.ASCII.GetBytes(Key),
    };

    /// <summary>Reads a Secret's data; null when a key is missing or the PEM does not load (the caller issues anew).</summary>
    public static TlsMaterial? FromSecretData(IDictionary<string, byte[]>? data)
    {
        if (data is null || !data.TryGetValue(CaBundleKey, out var bundle) || !data.TryGetValue(CaKeyKey, out var caKey)
            || !data.TryGetValue(CertificateKey, out var cert) || !data.TryGetValue(KeyKey, out var key))
        {
            return null;
        }

        var material = new TlsMaterial(Encoding.ASCII.GetString(bundle), Encoding.ASCII.GetString(caKey), Encoding.ASCII.GetString(cert), Encoding.ASCII.GetString(key));
        try
        {
            material.LoadCa().Dispose();
            material.ServingCertificate().Dispose();
            return material;
        }
        catch (CryptographicException)
        {
            return null;
        }
    }

    private static TlsMaterial Issue(X509Certificate2 ca, string bundle, ServingNames names, DateTimeOffset now)
    {
        using var serving = CertificateFactory.CreateServing(ca, names, now, CertificateFactory.ServingLifetime);
        using var caKey = ca.GetECDsaPrivateKey() ?? throw new CryptographicException("the CA has no private key");
        using var key = serving.GetECDsaPrivateKey() ?? throw new CryptographicException("the serving certificate has no private key");
        return new TlsMaterial(bundle, caKey.ExportPkcs8PrivateKeyPem(), serving.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
    }
}
