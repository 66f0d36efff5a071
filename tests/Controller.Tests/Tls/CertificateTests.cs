using System.Net;
using System.Security.Cryptography.X509Certificates;
using BranchEni.Controller.Tls;

namespace BranchEni.Controller.Tests.Tls;

/// <summary>The controller's CA and serving certificate: names, chain, renewal timing.</summary>
public sealed class CertificateTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void The_service_names_are_the_four_forms_the_api_server_and_pods_may_dial()
    {
        var names = ServingNames.ForService("kube-system", "branch-eni-controller");
        Assert.Equal(["branch-eni-controller", "branch-eni-controller.kube-system", "branch-eni-controller.kube-system.svc",
            "branch-eni-controller.kube-system.svc.cluster.local"], names.DnsNames);

        using var ca = CertificateFactory.CreateCa(Now, CertificateFactory.CaLifetime);
        using var serving = CertificateFactory.CreateServing(ca, names, Now, CertificateFactory.ServingLifetime);
        var (dns, ips) = CertificateFactory.SubjectAlternativeNames(serving);
        Assert.Equal(names.DnsNames.Order(), dns.Order());
        Assert.Empty(ips);
        Assert.True(names.CoveredBy(serving));
        Assert.False(ServingNames.ForService("other", "branch-eni-controller").CoveredBy(serving));
    }

    [Fact]
    public void A_url_host_that_is_an_address_becomes_an_ip_san()
    {
        Assert.Equal([IPAddress.Loopback], ServingNames.ForUrl(new Uri("https://127.0.0.1:9443")).IpAddresses);
        Assert.Equal(["webhook.example"], ServingNames.ForUrl(new Uri("https://webhook.example:9443/x")).DnsNames);
        Assert.Equal([IPAddress.IPv6Loopback], ServingNames.ForUrl(new Uri("https://[::1]:9443")).IpAddresses);
    }

    [Fact]
    public void The_serving_certificate_chains_to_the_ca_alone_for_server_auth()
    {
        using var ca = CertificateFactory.CreateCa(Now, CertificateFactory.CaLifetime);
        using var serving = CertificateFactory.CreateServing(ca, ServingNames.ForUrl(new Uri("https://127.0.0.1:1")), Now, CertificateFactory.ServingLifetime);
        Assert.True(serving.HasPrivateKey);

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = Now.UtcDateTime.AddDays(1);
        chain.ChainPolicy.ApplicationPolicy.Add(new System.Security.Cryptography.Oid("1.3.6.1.5.5.7.3.1"));
        Assert.True(chain.Build(serving), string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation)));

        using var stranger = CertificateFactory.CreateCa(Now, CertificateFactory.CaLifetime);
        using var other = new X509Chain();
        other.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        other.ChainPolicy.CustomTrustStore.Add(stranger);
        other.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        other.ChainPolicy.VerificationTime = Now.UtcDateTime.AddDays(1);
        Assert.False(other.Build(serving));
    }

    [Fact]
    public void Renewal_is_due_once_less_than_a_third_of_the_life_remains()
    {
        using var ca = CertificateFactory.CreateCa(Now, CertificateFactory.CaLifetime);
        using var serving = CertificateFactory.CreateServing(ca, ServingNames.ForService("ns", "svc"), Now, TimeSpan.FromDays(300));
        var life = serving.NotAfter.ToUniversalTime() - serving.NotBefore.ToUniversalTime();
        var notAfter = new DateTimeOffset(serving.NotAfter.ToUniversalTime());

        Assert.False(CertificateFactory.NeedsRenewal(serving, Now));
        Assert.False(CertificateFactory.NeedsRenewal(serving, notAfter - (life / 3) - TimeSpan.FromMinutes(1)));
        Assert.True(CertificateFactory.NeedsRenewal(serving, notAfter - (life / 3) + TimeSpan.FromMinutes(1)));
        Assert.True(CertificateFactory.NeedsRenewal(serving, notAfter + TimeSpan.FromDays(1)));
    }

    [Fact]
    public void A_serving_certificate_never_outlives_its_ca()
    {
        using var ca = CertificateFactory.CreateCa(Now, TimeSpan.FromDays(30));
        using var serving = CertificateFactory.CreateServing(ca, ServingNames.ForService("ns", "svc"), Now, CertificateFactory.ServingLifetime);
        Assert.Equal(ca.NotAfter, serving.NotAfter);
    }

    [Fact]
    public void Stored_material_is_kept_until_due_then_renewed_under_the_same_ca()
    {
        var names = ServingNames.ForService("kube-system", "branch-eni-controller");
        var material = TlsMaterial.Create(names, Now);
        var roundTrip = TlsMaterial.FromSecretData(material.ToSecretData().ToDictionary(p => p.Key, p => p.Value));
        Assert.Equal(material, roundTrip);

        Assert.Null(material.Renewed(names, Now.AddDays(200)));
        var renewed = Assert.IsType<TlsMaterial>(material.Renewed(names, Now.AddDays(250)));
        Assert.Equal(material.CaBundle, renewed.CaBundle);
        Assert.NotEqual(material.Certificate, renewed.Certificate);

        // A name the certificate lacks (the Service moved) is renewal due now.
        Assert.NotNull(material.Renewed(ServingNames.ForService("branch-eni", "branch-eni-controller"), Now));
    }

    [Fact]
    public void A_ca_near_expiry_is_replaced_and_the_old_one_stays_in_the_bundle()
    {
        var names = ServingNames.ForService("ns", "svc");
        var material = TlsMaterial.Create(names, Now);
        var later = Now + CertificateFactory.CaLifetime - TimeSpan.FromDays(300);
        var renewed = Assert.IsType<TlsMaterial>(material.Renewed(names, later));

        var bundle = new X509Certificate2Collection();
        bundle.ImportFromPem(renewed.CaBundle);
        Assert.Equal(2, bundle.Count);
        using var oldCa = X509Certificate2.CreateFromPem(material.CaBundle);
        Assert.Equal(oldCa.Thumbprint, bundle[1].Thumbprint);
        using var issuer = renewed.LoadCa();
        Assert.NotEqual(oldCa.Thumbprint, issuer.Thumbprint);
        using var serving = renewed.ServingCertificate();
        Assert.Equal(issuer.Subject, serving.Issuer);
    }

    [Fact]
    public void Secret_data_missing_a_key_or_holding_garbage_is_not_material()
    {
        var data = TlsMaterial.Create(ServingNames.ForService("ns", "svc"), Now).ToSecretData().ToDictionary(p => p.Key, p => p.Value);
        Assert.Null(TlsMaterial.FromSecretData(data.Where(p => p.Key != TlsMaterial.KeyKey).ToDictionary(p => p.Key, p => p.Value)));
        data[TlsMaterial.CertificateKey] = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"u8.ToArray();
        Assert.Null(TlsMaterial.FromSecretData(data));
    }
}
