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

    [Fact]
    public async Task An_unreachable_api_server_is_retried_until_stopped_without_failing_the_loop()
    {
        using var dead = new BranchEni.Kube.KubeConnection(new k8s.Kubernetes(new k8s.KubernetesClientConfiguration { Host = "http://127.0.0.1:1" }));
        var names = ServingNames.ForService("kube-system", "branch-eni-controller");
        var log = new Serilog.LoggerConfiguration().WriteTo.Sink(Sink).CreateLogger();
        var keeper = new CertificateKeeper(new TlsSecretStore(dead, "kube-system", "tls", log),
            new WebhookConfigurations(dead, new WebhookEndpoint("kube-system", "svc", null), log), names, null, log)
        { CheckInterval = TimeSpan.FromMilliseconds(50) };
        int Failures() => Sink.Lines.Count(l => l.Contains("Webhook certificate check failed", StringComparison.Ordinal));
        // Stopped once it has failed and retried (a fixed window flaked on a loaded machine); the ceiling only bounds a hang.
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var loop = keeper.RunAsync(stop.Token);
        while (Failures() < 2 && !loop.IsCompleted && !stop.IsCancellationRequested)
        {
            await Task.Delay(20);
        }

        Assert.False(loop.IsCompleted, "the loop ended on its own instead of retrying");
        await stop.CancelAsync();
        await loop;

        Assert.Null(keeper.Current);
        Assert.True(Failures() >= 2, string.Join("\n", Sink.Lines));
    }

    private BranchEni.Controller.Tests.Sandbox.CollectingSink Sink { get; } = new();

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
