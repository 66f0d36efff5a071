using BranchEni.Agent.Kubernetes;
using BranchEni.Kube;
using BranchEni.Policy;

namespace BranchEni.Agent.Branches;

/// <summary>What the reconciler reads about the cluster (the informers' caches).</summary>
internal interface IClusterView
{
    PodView? Pod(string uid);

    IEnumerable<SecurityGroupPolicy> Policies { get; }

    /// <summary>False while the namespace's service accounts are not known (not watched, or not synced yet); else the
    /// account, null when it does not exist.</summary>
    bool TryServiceAccount(string ns, string name, out ServiceAccountView? account);
}

/// <summary>The operator's settings that the pod rule takes (ENABLE_SG_ANNOTATION, SG_ANNOTATION_NAMESPACES,
/// DEFAULT_POD_METADATA_ACCESS).</summary>
internal sealed record PodRules(SecurityGroupAnnotationSettings SgAnnotation, MetadataAccess? DefaultMetadataAccess)
{
    public static readonly PodRules Default = new(SecurityGroupAnnotationSettings.Disabled, null);
}

internal static class ClusterViewExtensions
{
    /// <summary>Whether the pod must have a branch ENI and with which groups (src/Policy: one rule for agent, CNI and
    /// webhook); null when it cannot be decided yet: a policy of its namespace selects by service account and that
    /// namespace's accounts are not synced. Fail closed: such a pod is never "no branch" for want of its account's
    /// labels; it waits (callers record nothing and requeue it when the accounts sync).</summary>
    public static BranchDecision? Decide(this IClusterView cluster, PodView pod, PodRules rules)
    {
        var policies = cluster.Policies.ToList();
        ServiceAccountView? sa = null;
        if (SecurityGroupMatcher.NeedsServiceAccount(pod.Namespace, policies) && !cluster.TryServiceAccount(pod.Namespace, pod.ServiceAccount, out sa))
        {
            return null;
        }

        return BranchDecision.For(new PolicyPod(pod.Namespace, pod.Labels, pod.ServiceAccount, sa?.Labels, pod.SecurityGroupsAnnotation),
            pod.RequestsPodEni, policies, rules.SgAnnotation);
    }

    /// <summary><see cref="Decide"/> where waiting is not possible (a branch half-made before a restart): an undecidable
    /// pod is an error, retried with backoff.</summary>
    public static BranchDecision DecideNow(this IClusterView cluster, PodView pod, PodRules rules) =>
        cluster.Decide(pod, rules) ?? throw new InvalidOperationException(
            $"the service accounts of namespace {pod.Namespace} are not synced yet, so whether a SecurityGroupPolicy selects the pod is not known");
}
