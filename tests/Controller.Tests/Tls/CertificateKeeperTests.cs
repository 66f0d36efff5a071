using BranchEni.Controller.Tls;

namespace BranchEni.Controller.Tests.Tls;

/// <summary>cert-manager mode: the mounted files are served, and a rotation on disk is picked up without a restart.</summary>
public sealed class CertificateKeeperTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("keeper-").FullName;

    private (string Cert, string Key) Write(TlsMaterial material)
    {
        var cert = Path.Combine(_dir, "tls.crt");
        var key = Path.Combine(_dir, "tls.key");
        File.WriteAllText(cert, material.Certificate);
        File.WriteAllText(key, material.Key);
        return (cert, key);
    }

    [Fact]
    public async Task Mounted_files_are_served_and_reloaded_when_they_change()
    {
        var names = ServingNames.ForService("kube-system", "branch-eni-controller");
        var first = TlsMaterial.Create(names, DateTimeOffset.UtcNow);
        var files = Write(first);
        var keeper = new CertificateKeeper(null, null, names, files, Serilog.Core.Logger.None);
        Assert.Null(keeper.Current);

        await keeper.CheckOnceAsync(CancellationToken.None);
        using var served = first.ServingCertificate();
        Assert.Equal(served.Thumbprint, keeper.Current!.Thumbprint);
        Assert.True(keeper.Current.HasPrivateKey);

        var second = TlsMaterial.Create(names, DateTimeOffset.UtcNow);
        Write(second);
        File.SetLastWriteTimeUtc(files.Cert, DateTime.UtcNow.AddSeconds(5));
        await keeper.CheckOnceAsync(CancellationToken.None);
        using var rotated = second.ServingCertificate();
        Assert.Equal(rotated.Thumbprint, keeper.Current!.Thumbprint);
        Assert.InRange(keeper.SecondsToExpiry!.Value, TimeSpan.FromDays(364).TotalSeconds, TimeSpan.FromDays(366).TotalSeconds);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
