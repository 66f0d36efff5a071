namespace BranchEni.Policy;

/// <summary>
/// The names of Calico's AWS security-group integration (DESIGN.md §2 "Calico-compatible contracts"), kept exact so
/// that users of it write the same annotations, labels and policies here.
/// </summary>
public static class TigeraNames
{
    /// <summary>Pod annotation: a JSON array of security group ids the pod is placed in (opt-in ENABLE_SG_ANNOTATION).</summary>
    public const string SecurityGroupsAnnotation = "aws.tigera.io/security-groups";

    /// <summary>Label prefix: <c>sg.aws.tigera.io/&lt;sg-id&gt;: ""</c> on a pod for each of its groups, written only by the agents.</summary>
    public const string SecurityGroupLabelPrefix = "sg.aws.tigera.io/";

    /// <summary>Pod label <c>"true"|"false"</c>: whether the pod may reach the instance metadata service.</summary>
    public const string AllowMetadataAccessLabel = "aws.tigera.io/allow-metadata-access";

    /// <summary>NetworkPolicy annotation <c>"true"</c>: its security-group peers also match the VPC's members of those groups.</summary>
    public const string MatchSecurityGroupsAnnotation = "rules.networkpolicy.tigera.io/match-security-groups";

    /// <summary>The label on objects we keep (companion NetworkPolicies), with the value <see cref="ManagedByValue"/>.</summary>
    public const string ManagedByLabel = "app.kubernetes.io/managed-by";

    public const string ManagedByValue = "branch-eni";

    /// <summary>The label a pod carries for one of its security groups.</summary>
    public static string SecurityGroupLabel(string groupId) => SecurityGroupLabelPrefix + groupId;
}
