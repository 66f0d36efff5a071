using BranchEni.Agent.Ec2;

namespace BranchEni.Agent.Branches;

/// <summary>
/// Checks the groups a pod's aws.tigera.io/security-groups annotation names before a branch ENI is made with them
/// (issue 19): each must exist, be in the node's VPC, and the branch's groups must fit EC2's per-interface quota. The
/// annotation is written by whoever can create pods, so unlike a SecurityGroupPolicy's groups nobody has vetted them;
/// a bad one must give the pod no branch (and so, through the decision record, no network) rather than a confusing
/// EC2 error on every retry.
/// </summary>
internal sealed class SecurityGroupChecker(Ec2Gateway ec2, string vpcId, int maxPerEni)
{
    /// <summary>Null when the branch may be made; otherwise the problem, naming the bad id and why.</summary>
    public async Task<string?> ProblemAsync(IReadOnlyList<string> annotationGroups, int branchGroups, CancellationToken ct)
    {
        if (branchGroups > maxPerEni)
        {
            return $"the branch ENI would have {branchGroups} security groups, more than the {maxPerEni} EC2 allows per network interface (MAX_SECURITY_GROUPS_PER_ENI)";
        }

        if (annotationGroups.Count == 0)
        {
            return null;
        }

        var found = await ec2.SecurityGroupVpcsAsync(annotationGroups, ct).ConfigureAwait(false);
        foreach (var id in annotationGroups)
        {
            if (!found.TryGetValue(id, out var vpc))
            {
                return $"security group {id} does not exist";
            }

            if (vpc != vpcId)
            {
                return $"security group {id} is in {vpc ?? "no VPC"}, not in this node's VPC {vpcId}";
            }
        }

        return null;
    }
}
