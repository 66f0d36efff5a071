namespace BranchEni.Aws;

/// <summary>The tags on every ENI the agent creates (DESIGN.md §2); the controller reads them to tell our branch ENIs from the VPC's other members. They are how a restart finds its ENIs again and
/// how garbage collection knows an ENI is ours: nothing without <see cref="Owner"/> = <see cref="OwnerValue"/> and this
/// instance's id is ever deleted.</summary>
public static class EniTags
{
    public const string InstanceId = "node.k8s.amazonaws.com/instance_id";
    public const string Owner = "eks:eni:owner";
    public const string OwnerValue = "branch-eni";
    public const string TrunkEniId = "vpcresources.k8s.aws/trunk-eni-id";
    public const string VlanId = "vpcresources.k8s.aws/vlan-id";

    /// <summary>Ours, beyond the contract: the pod a branch was created for, so a restart between create and record
    /// can finish that pod's branch instead of leaking it.</summary>
    public const string PodUid = "branch-eni.k8s.aws/pod-uid";

    public const string TrunkDescription = "aws-k8s-trunk-eni";
    public const string BranchDescription = "aws-k8s-branch-eni";

    public static string Cluster(string clusterName) => $"kubernetes.io/cluster/{clusterName}";
}
