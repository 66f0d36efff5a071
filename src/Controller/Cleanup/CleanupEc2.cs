using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.Runtime;
using BranchEni.Aws;

namespace BranchEni.Controller.Cleanup;

/// <summary>
/// The cleanup's EC2 calls, each through the shared <see cref="Ec2CallPolicy"/> (token buckets, jittered retry, counts).
/// Every Describe is filtered and paginated (DESIGN.md §5); instances are asked by <c>instance-id</c> filter, not by
/// InstanceIds, so one unknown id is an absent row rather than InvalidInstanceID.NotFound for the whole batch.
/// </summary>
internal sealed class CleanupEc2(IAmazonEC2 ec2, Ec2CallPolicy policy)
{
    // EC2 takes at most 200 values per filter.
    private const int ValuesPerFilter = 200;

    /// <summary>Available ENIs tagged ours and this cluster's (the server filters; <see cref="GarbageRules"/> checks again).</summary>
    public async Task<IReadOnlyList<CleanupEni>> OurAvailableEnisAsync(string clusterName, CancellationToken ct)
    {
        var result = new List<CleanupEni>();
        string? next = null;
        do
        {
            var request = new DescribeNetworkInterfacesRequest
            {
                Filters =
                [
                    new Filter($"tag:{EniTags.Owner}", [EniTags.OwnerValue]),
                    new Filter($"tag:{EniTags.Cluster(clusterName)}", ["owned"]),
                    new Filter("status", ["available"]),
                ],
                MaxResults = 1000,
                NextToken = next,
            };
            var page = await policy.CallAsync("DescribeNetworkInterfaces", c => ec2.DescribeNetworkInterfacesAsync(request, c), ct).ConfigureAwait(false);
            result.AddRange((page.NetworkInterfaces ?? []).Where(e => e.NetworkInterfaceId is not null).Select(CleanupEni.From));
            next = page.NextToken;
        }
        while (!string.IsNullOrEmpty(next));
        return result;
    }

    /// <summary>Instance id → state name ("running", "terminated", …) for those EC2 knows; an id EC2 does not know is absent.</summary>
    public async Task<IReadOnlyDictionary<string, string>> InstanceStatesAsync(IReadOnlyCollection<string> instanceIds, CancellationToken ct)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var batch in instanceIds.Chunk(ValuesPerFilter))
        {
            string? next = null;
            do
            {
                var request = new DescribeInstancesRequest { Filters = [new Filter("instance-id", [.. batch])], MaxResults = 1000, NextToken = next };
                var page = await policy.CallAsync("DescribeInstances", c => ec2.DescribeInstancesAsync(request, c), ct).ConfigureAwait(false);
                foreach (var instance in (page.Reservations ?? []).SelectMany(r => r.Instances ?? []))
                {
                    if (instance.InstanceId is not null)
                    {
                        // No state in the answer is not "gone": the rules keep what they cannot judge.
                        result[instance.InstanceId] = instance.State?.Name?.Value ?? "";
                    }
                }

                next = page.NextToken;
            }
            while (!string.IsNullOrEmpty(next));
        }

        return result;
    }

    /// <summary>
    /// Every ENI id (branch or trunk) in an association with one of <paramref name="trunkIds"/>. Asked by trunk: the
    /// <c>trunk-interface-association.trunk-interface-id</c> filter is the one the VPC resource controller relies on
    /// (EC2's reference documents only gre-key and interface-protocol), so a branch is checked through the trunk its
    /// <c>vpcresources.k8s.aws/trunk-eni-id</c> tag names. A trunk EC2 no longer knows has no associations.
    /// </summary>
    public async Task<IReadOnlySet<string>> AssociatedWithTrunksAsync(IReadOnlyCollection<string> trunkIds, CancellationToken ct)
    {
        var result = new HashSet<string>(StringComparer.Ordinal);
        foreach (var batch in trunkIds.Chunk(ValuesPerFilter))
        {
            string? next = null;
            do
            {
                var request = new DescribeTrunkInterfaceAssociationsRequest
                {
                    Filters = [new Filter("trunk-interface-association.trunk-interface-id", [.. batch])],
                    MaxResults = 255,
                    NextToken = next,
                };
                var page = await policy.CallAsync("DescribeTrunkInterfaceAssociations", c => ec2.DescribeTrunkInterfaceAssociationsAsync(request, c), ct).ConfigureAwait(false);
                foreach (var association in page.InterfaceAssociations ?? [])
                {
                    result.UnionWith(new[] { association.BranchInterfaceId, association.TrunkInterfaceId }.OfType<string>());
                }

                next = page.NextToken;
            }
            while (!string.IsNullOrEmpty(next));
        }

        return result;
    }

    /// <summary>DeleteNetworkInterface; InvalidNetworkInterfaceID.NotFound counts as done (DESIGN.md §2). False when it was
    /// already gone (another replica, the agent, or EC2 deleted it).</summary>
    public async Task<bool> DeleteIfExistsAsync(string eniId, CancellationToken ct)
    {
        try
        {
            var request = new DeleteNetworkInterfaceRequest { NetworkInterfaceId = eniId };
            await policy.CallAsync("DeleteNetworkInterface", c => ec2.DeleteNetworkInterfaceAsync(request, c), ct).ConfigureAwait(false);
            return true;
        }
        catch (AmazonServiceException e) when (Ec2CallPolicy.IsNotFound(e))
        {
            return false;
        }
    }
}
