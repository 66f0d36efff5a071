using System.Net;
using BranchEni.Controller.Observability;
using BranchEni.Kube;
using BranchEni.Policy;
using k8s;
using k8s.Models;
using Serilog;

namespace BranchEni.Controller.Companions;

/// <summary>
/// The API writes of the companion job: create, replace and delete companion NetworkPolicies, and Warning events on an
/// original policy. Conflicts (409) and races with other writers are left to the next pass, which reads the informer
/// again; "already gone" counts as deleted (the sandbox has no garbage collector, and neither must we rely on one).
/// </summary>
internal sealed class CompanionWriter(KubeConnection kube, ControllerMetrics metrics, ILogger log)
{
    private readonly HashSet<string> _warned = new(StringComparer.Ordinal);

    public static V1NetworkPolicy Companion(V1NetworkPolicy original, V1NetworkPolicySpec spec) => new()
    {
        ApiVersion = "networking.k8s.io/v1",
        Kind = "NetworkPolicy",
        Metadata = new V1ObjectMeta
        {
            Name = CompanionPlanner.CompanionName(original.Metadata.Name),
            NamespaceProperty = original.Metadata.NamespaceProperty,
            Labels = new Dictionary<string, string> { [TigeraNames.ManagedByLabel] = TigeraNames.ManagedByValue },
            OwnerReferences = [OwnerOf(original)],
        },
        Spec = spec,
    };

    /// <summary>
    /// The companion's owner: the original, as its controller. blockOwnerDeletion is true as for every controller-owned
    /// object (foreground deletion of the original waits for the companion); setting it needs update on
    /// networkpolicies/finalizers, which the controller's RBAC grants.
    /// </summary>
    public static V1OwnerReference OwnerOf(V1NetworkPolicy original) => new()
    {
        ApiVersion = "networking.k8s.io/v1",
        Kind = "NetworkPolicy",
        Name = original.Metadata.Name,
        Uid = original.Metadata.Uid,
        Controller = true,
        BlockOwnerDeletion = true,
    };

    /// <summary>Whether the existing companion already is what we would write.</summary>
    public static bool IsUpToDate(V1NetworkPolicy existing, V1NetworkPolicy desired) =>
        KubernetesJson.Serialize(existing.Spec) == KubernetesJson.Serialize(desired.Spec)
        && CompanionPlanner.IsManaged(existing)
        && existing.Metadata.OwnerReferences is [var owner] && KubernetesJson.Serialize(owner) == KubernetesJson.Serialize(desired.Metadata.OwnerReferences[0]);

    public async Task CreateAsync(V1NetworkPolicy companion, CancellationToken ct)
    {
        try
        {
            await kube.WithDeadline(c => kube.Client.NetworkingV1.CreateNamespacedNetworkPolicyAsync(companion, companion.Metadata.NamespaceProperty, cancellationToken: c), ct).ConfigureAwait(false);
            metrics.CompanionWrite("create");
            log.Information("Created companion NetworkPolicy {Namespace}/{Name}", companion.Metadata.NamespaceProperty, companion.Metadata.Name);
        }
        catch (Exception e) when (KubeConnection.IsStatus(e, HttpStatusCode.Conflict))
        {
            log.Debug("Companion {Namespace}/{Name} appeared meanwhile; the next pass looks at it", companion.Metadata.NamespaceProperty, companion.Metadata.Name);
        }
    }

    /// <summary>Replaces the existing object's spec, labels and owner with the desired ones (its resourceVersion guards the write).</summary>
    public async Task UpdateAsync(V1NetworkPolicy existing, V1NetworkPolicy desired, CancellationToken ct)
    {
        existing.Spec = desired.Spec;
        existing.Metadata.Labels ??= new Dictionary<string, string>();
        existing.Metadata.Labels[TigeraNames.ManagedByLabel] = TigeraNames.ManagedByValue;
        existing.Metadata.OwnerReferences = desired.Metadata.OwnerReferences;
        existing.ApiVersion = "networking.k8s.io/v1";
        existing.Kind = "NetworkPolicy";
        var (ns, name) = (existing.Metadata.NamespaceProperty, existing.Metadata.Name);
        try
        {
            await kube.WithDeadline(c => kube.Client.NetworkingV1.ReplaceNamespacedNetworkPolicyAsync(existing, name, ns, cancellationToken: c), ct).ConfigureAwait(false);
            metrics.CompanionWrite("update");
            log.Information("Updated companion NetworkPolicy {Namespace}/{Name}", ns, name);
        }
        catch (Exception e) when (KubeConnection.IsStatus(e, HttpStatusCode.Conflict) || KubeConnection.IsStatus(e, HttpStatusCode.NotFound))
        {
            log.Debug("Companion {Namespace}/{Name} changed meanwhile; the next pass looks again", ns, name);
        }
    }

    public async Task DeleteAsync(V1NetworkPolicy companion, string why, CancellationToken ct)
    {
        var (ns, name) = (companion.Metadata.NamespaceProperty, companion.Metadata.Name);
        try
        {
            await kube.WithDeadline(c => kube.Client.NetworkingV1.DeleteNamespacedNetworkPolicyAsync(name, ns, cancellationToken: c), ct).ConfigureAwait(false);
            metrics.CompanionWrite("delete");
            log.Information("Deleted companion NetworkPolicy {Namespace}/{Name}: {Reason}", ns, name, why);
        }
        catch (Exception e) when (KubeConnection.IsStatus(e, HttpStatusCode.NotFound))
        {
            // Already gone: that is what we wanted.
        }
    }

    /// <summary>A Warning event on the original policy and a log line, once per policy (uid) and reason.</summary>
    public async Task WarnAsync(V1NetworkPolicy original, string reason, string message, CancellationToken ct)
    {
        var (ns, name) = (original.Metadata.NamespaceProperty, original.Metadata.Name);
        var key = $"{original.Metadata.Uid}/{reason}";
        if (!_warned.Add(key))
        {
            return;
        }

        log.Warning("NetworkPolicy {Namespace}/{Name}: {Reason}: {Message}", ns, name, reason, message);
        var e = KubeEvents.New(new V1ObjectReference { ApiVersion = "networking.k8s.io/v1", Kind = "NetworkPolicy", Name = name, NamespaceProperty = ns, Uid = original.Metadata.Uid },
            "Warning", reason, message, "branch-eni-controller");
        try
        {
            await kube.WithDeadline(c => kube.Client.CoreV1.CreateNamespacedEventAsync(e, ns, cancellationToken: c), ct).ConfigureAwait(false);
        }
        catch (Exception x) when (x is k8s.Autorest.HttpOperationException or HttpRequestException)
        {
            // The log line above carries the same words; the event is tried again at the next pass.
            _warned.Remove(key);
            log.Debug("Could not record event {Reason} on {Namespace}/{Name}: {Error}", reason, ns, name, x.Message);
        }
    }

    /// <summary>Forgets a warning, so the problem is reported again if it comes back after being resolved.</summary>
    public void Resolved(V1NetworkPolicy original, string reason) => _warned.Remove($"{original.Metadata.Uid}/{reason}");
}
