using System.Net;
using BranchEni.Kube;
using k8s;
using k8s.Models;
using Serilog;

namespace BranchEni.Controller.Tls;

/// <summary>
/// Keeps <see cref="TlsMaterial"/> in one Secret shared by every replica. Replicas starting together converge on one
/// CA: the first create wins, the others get 409 and re-read the winner's. Renewals replace the Secret at the
/// resourceVersion they read, so a concurrent renewal by another replica makes ours fail (409) and we re-read.
/// </summary>
internal sealed class TlsSecretStore(KubeConnection kube, string ns, string name, ILogger log)
{
    private const int Attempts = 5;

    /// <summary>Returns the material to serve with, creating or renewing the Secret when due.</summary>
    public async Task<TlsMaterial> EnsureAsync(ServingNames names, DateTimeOffset now, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            var secret = await ReadAsync(ct).ConfigureAwait(false);
            try
            {
                if (secret is null)
                {
                    var created = TlsMaterial.Create(names, now);
                    await kube.WithDeadline(c => kube.Client.CoreV1.CreateNamespacedSecretAsync(NewSecret(created), ns, cancellationToken: c), ct).ConfigureAwait(false);
                    log.Information("Created the webhook CA and serving certificate in Secret {Namespace}/{Secret}", ns, name);
                    return created;
                }

                var stored = TlsMaterial.FromSecretData(secret.Data);
                var next = stored is null ? TlsMaterial.Create(names, now) : stored.Renewed(names, now);
                if (next is null)
                {
                    return stored!;
                }

                secret.Data = next.ToSecretData().ToDictionary(p => p.Key, p => p.Value);
                await kube.WithDeadline(c => kube.Client.CoreV1.ReplaceNamespacedSecretAsync(secret, name, ns, cancellationToken: c), ct).ConfigureAwait(false);
                log.Information("Renewed the webhook certificate in Secret {Namespace}/{Secret} ({Why})", ns, name,
                    stored is null ? "the stored material did not load" : "due or missing a name");
                return next;
            }
            catch (Exception e) when (KubeConnection.IsStatus(e, HttpStatusCode.Conflict) && attempt < Attempts)
            {
                // 409: another replica created (AlreadyExists) or renewed (Conflict) it first; use theirs.
                log.Information("Secret {Namespace}/{Secret} changed under us; reading it again", ns, name);
            }
        }
    }

    private async Task<V1Secret?> ReadAsync(CancellationToken ct)
    {
        try
        {
            return await kube.WithDeadline(c => kube.Client.CoreV1.ReadNamespacedSecretAsync(name, ns, cancellationToken: c), ct).ConfigureAwait(false);
        }
        catch (Exception e) when (KubeConnection.IsStatus(e, HttpStatusCode.NotFound))
        {
            return null;
        }
    }

    private V1Secret NewSecret(TlsMaterial material) => new()
    {
        ApiVersion = "v1",
        Kind = "Secret",
        Metadata = new V1ObjectMeta
        {
            Name = name,
            NamespaceProperty = ns,
            Labels = new Dictionary<string, string> { ["app.kubernetes.io/name"] = "branch-eni-controller" },
        },
        Type = "Opaque",
        Data = material.ToSecretData().ToDictionary(p => p.Key, p => p.Value),
    };
}
