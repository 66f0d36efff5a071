using Amazon.EC2.Model;
using BranchEni.Agent.Ec2;
using Serilog;

namespace BranchEni.Agent.Branches;

/// <summary>
/// The EC2 side of branch ENIs: create (tagged, in the trunk's subnet, with the pod's security groups), associate to
/// the trunk under the entry's VLAN, release (disassociate + delete, not-found counts as done), and the restart
/// inventory from tags. Each step records its result in the <see cref="BranchTable"/> before the next starts, so an
/// interruption leaves either nothing or an ENI whose tags say whose it is.
/// </summary>
internal sealed class BranchProvisioner(Ec2Gateway ec2, BranchTable table, Trunk trunk, string instanceId, string clusterName, ILogger log)
{
    /// <summary>Brings the entry to complete: creates the ENI if it has none, associates it if it is not.</summary>
    public async Task<BranchEntry> CompleteAsync(BranchEntry entry, IReadOnlyList<string> securityGroups, CancellationToken ct)
    {
        if (entry.EniId is null)
        {
            var request = new CreateNetworkInterfaceRequest
            {
                SubnetId = trunk.SubnetId,
                Description = EniTags.BranchDescription,
                Groups = [.. securityGroups],
                // Idempotent per pod and VLAN: a retry after a lost answer gets the same ENI, not a second one.
                ClientToken = $"{entry.PodUid}-{entry.VlanId}",
                TagSpecifications = Ec2Gateway.TagSpec(
                [
                    (EniTags.InstanceId, instanceId),
                    (EniTags.Cluster(clusterName), "owned"),
                    (EniTags.Owner, EniTags.OwnerValue),
                    (EniTags.TrunkEniId, trunk.EniId),
                    (EniTags.VlanId, Ec2Gateway.Invariant(entry.VlanId)),
                    (EniTags.PodUid, entry.PodUid),
                ]),
            };
            var eni = await ec2.CreateEniAsync(request, ct).ConfigureAwait(false);
            if (eni.PrivateIp is null)
            {
                throw new Ec2AnswerException($"CreateNetworkInterface {eni.Id} answered without a private IP");
            }

            entry = entry with
            {
                EniId = eni.Id, MacAddress = eni.MacAddress, PrivateIp = eni.PrivateIp,
                SecurityGroups = eni.Groups.Count > 0 ? eni.Groups : securityGroups,
            };
            table.Set(entry);
            log.Information("Created branch ENI {EniId} for pod {Namespace}/{Pod} (VLAN {VlanId}, groups {Groups})",
                eni.Id, entry.PodNamespace, entry.PodName, entry.VlanId, string.Join(",", securityGroups));
        }

        if (entry.AssociationId is null)
        {
            var association = await ec2.AssociateAsync(entry.EniId, trunk.EniId, entry.VlanId, $"{entry.EniId}-{entry.VlanId}", ct).ConfigureAwait(false);
            entry = entry with { AssociationId = association };
            table.Set(entry);
            log.Information("Associated branch ENI {EniId} to trunk {TrunkEniId} on VLAN {VlanId} ({AssociationId})",
                entry.EniId, trunk.EniId, entry.VlanId, association);
        }

        return entry;
    }

    /// <summary>Disassociates and deletes the entry's ENI; anything already gone counts as done.</summary>
    public async Task ReleaseAsync(BranchEntry entry, CancellationToken ct)
    {
        if (entry.AssociationId is not null)
        {
            await ec2.DisassociateIfExistsAsync(entry.AssociationId, ct).ConfigureAwait(false);
        }

        if (entry.EniId is not null)
        {
            await ec2.DeleteEniIfExistsAsync(entry.EniId, ct).ConfigureAwait(false);
        }

        log.Information("Released branch ENI {EniId} of pod {Namespace}/{Pod} (VLAN {VlanId})", entry.EniId, entry.PodNamespace, entry.PodName, entry.VlanId);
    }

    /// <summary>Every ENI tagged ours and this instance's (the only ones the agent may ever touch).</summary>
    public async Task<IReadOnlyList<EniView>> OurBranchEnisAsync(CancellationToken ct)
    {
        var enis = await ec2.DescribeEnisAsync(
        [
            new Filter($"tag:{EniTags.InstanceId}", [instanceId]),
            new Filter($"tag:{EniTags.Owner}", [EniTags.OwnerValue]),
        ], ct).ConfigureAwait(false);

        // The filters are the server's; the ownership check is ours too, so a sloppy filter can never widen it.
        return [.. enis.Where(e => e.Tag(EniTags.InstanceId) == instanceId && e.Tag(EniTags.Owner) == EniTags.OwnerValue
            && e.Tag(EniTags.VlanId) is not null && e.InterfaceType != "trunk")];
    }

    public Task<IReadOnlyDictionary<string, (string AssociationId, int? VlanId)>> AssociationsAsync(CancellationToken ct) =>
        ec2.TrunkAssociationsAsync(trunk.EniId, ct);

    public Task<bool> DeleteLeakedAsync(string eniId, CancellationToken ct) => ec2.DeleteEniIfExistsAsync(eniId, ct);
}
