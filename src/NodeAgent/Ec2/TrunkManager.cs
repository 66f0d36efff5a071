using Amazon.EC2;
using Amazon.EC2.Model;
using BranchEni.Agent.Configuration;
using Serilog;

namespace BranchEni.Agent.Ec2;

/// <summary>This instance's trunk ENI, attached.</summary>
internal sealed record Trunk(string EniId, string MacAddress, string SubnetId, string SubnetCidr);

/// <summary>
/// Finds this instance's trunk ENI again (tagged with its instance id, interface type trunk) or creates one in the
/// node's subnet with the primary ENI's security groups, attaches it at the highest free device index with
/// DeleteOnTermination, and waits (bounded backoff) until EC2 reports it attached.
/// </summary>
internal sealed class TrunkManager(Ec2Gateway ec2, InstanceIdentity identity, string clusterName, ILogger log)
{
    /// <summary>The longest the agent waits for an attachment to settle.</summary>
    internal TimeSpan AttachTimeout { get; init; } = TimeSpan.FromSeconds(60);

    public async Task<Trunk> EnsureAsync(InstanceTypeLimit limit, CancellationToken ct)
    {
        var mine = await ec2.DescribeEnisAsync([new Filter($"tag:{EniTags.InstanceId}", [identity.InstanceId])], ct).ConfigureAwait(false);
        var trunks = mine.Where(e => e.InterfaceType == "trunk" && e.Tag(EniTags.InstanceId) == identity.InstanceId).ToList();
        var trunk = trunks.FirstOrDefault(t => t.AttachedInstanceId == identity.InstanceId) ?? trunks.FirstOrDefault(t => t.Status == "available");
        if (trunk is null)
        {
            trunk = await CreateAsync(ct).ConfigureAwait(false);
            log.Information("Created trunk ENI {TrunkEniId} ({Mac}) in {SubnetId}", trunk.Id, trunk.MacAddress, identity.SubnetId);
        }
        else
        {
            log.Information("Found trunk ENI {TrunkEniId} ({Mac}), status {Status}", trunk.Id, trunk.MacAddress, trunk.Status);
        }

        if (trunk.AttachedInstanceId != identity.InstanceId)
        {
            var index = await FreeDeviceIndexAsync(limit, ct).ConfigureAwait(false);
            var attachment = await ec2.AttachAsync(identity.InstanceId, trunk.Id, index, ct).ConfigureAwait(false);
            await ec2.SetDeleteOnTerminationAsync(trunk.Id, attachment, ct).ConfigureAwait(false);
            log.Information("Attached trunk ENI {TrunkEniId} at device index {DeviceIndex}", trunk.Id, index);
        }

        var attached = await WaitAttachedAsync(trunk.Id, ct).ConfigureAwait(false);
        var subnetId = attached.SubnetId ?? identity.SubnetId;
        var cidr = await ec2.SubnetCidrAsync(subnetId, ct).ConfigureAwait(false);
        return new Trunk(attached.Id, attached.MacAddress ?? throw new Ec2AnswerException($"trunk {attached.Id} has no MAC address"), subnetId, cidr);
    }

    private async Task<EniView> CreateAsync(CancellationToken ct)
    {
        var request = new CreateNetworkInterfaceRequest
        {
            SubnetId = identity.SubnetId,
            Description = EniTags.TrunkDescription,
            Groups = [.. identity.SecurityGroupIds],
            InterfaceType = NetworkInterfaceCreationType.Trunk,
            TagSpecifications = Ec2Gateway.TagSpec(
            [
                (EniTags.InstanceId, identity.InstanceId),
                (EniTags.Cluster(clusterName), "owned"),
                (EniTags.Owner, EniTags.OwnerValue),
            ]),
        };
        return await ec2.CreateEniAsync(request, ct).ConfigureAwait(false);
    }

    /// <summary>The highest device index the instance type allows that is not in use (the low ones stay free for
    /// the primary CNI's secondary ENIs, which take the next index up).</summary>
    private async Task<int> FreeDeviceIndexAsync(InstanceTypeLimit limit, CancellationToken ct)
    {
        var used = await ec2.DeviceIndexesAsync(identity.InstanceId, ct).ConfigureAwait(false);
        var max = limit.Interfaces is { } n ? n - 1 : (used.Count == 0 ? 1 : used.Max() + 1);
        for (var index = max; index >= 1; index--)
        {
            if (!used.Contains(index))
            {
                return index;
            }
        }

        throw new Ec2AnswerException($"instance {identity.InstanceId} has no free device index (0..{max} in use) for the trunk");
    }

    private async Task<EniView> WaitAttachedAsync(string trunkId, CancellationToken ct)
    {
        var delay = TimeSpan.FromMilliseconds(100);
        var deadline = DateTime.UtcNow + AttachTimeout;
        while (true)
        {
            var eni = await ec2.DescribeEniAsync(trunkId, ct).ConfigureAwait(false)
                ?? throw new Ec2AnswerException($"trunk ENI {trunkId} disappeared while attaching");
            if (eni.AttachmentStatus == "attached" && eni.AttachedInstanceId == identity.InstanceId)
            {
                return eni;
            }

            if (DateTime.UtcNow + delay > deadline)
            {
                throw new Ec2AnswerException($"trunk ENI {trunkId} is not attached after {AttachTimeout.TotalSeconds:0} s (attachment {eni.AttachmentStatus ?? "none"})");
            }

            await Task.Delay(delay, ct).ConfigureAwait(false);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 2000));
        }
    }
}
