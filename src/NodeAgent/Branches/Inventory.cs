using System.Globalization;
using BranchEni.Agent.Ec2;
using BranchEni.Contracts;
using Serilog;

namespace BranchEni.Agent.Branches;

/// <summary>
/// Restart and garbage. <see cref="RebuildAsync"/> turns ENI tags, trunk associations and records back into the
/// branch table (each VLAN claimed once; a second claimant is left to the collector). <see cref="CollectAsync"/>
/// deletes leaked branch ENIs: tagged ours and this instance's, not tracked, no live pod, and seen available on two
/// consecutive passes. An ENI without our tags is never touched.
/// </summary>
internal sealed class Inventory(BranchProvisioner provisioner, BranchTable table, NodeRecords records, Trunk trunk, ILogger log)
{
    private HashSet<string> _availableLastPass = new(StringComparer.Ordinal);

    public async Task RebuildAsync(CancellationToken ct)
    {
        var enis = await provisioner.OurBranchEnisAsync(ct).ConfigureAwait(false);
        var associations = await provisioner.AssociationsAsync(ct).ConfigureAwait(false);
        var recordList = records.ListPods().Where(r => r.Record is not null).ToDictionary(r => r.PodUid, r => r.Record!, StringComparer.Ordinal);

        // Associated ENIs first: when two claim one VLAN, the one EC2 has on the trunk keeps it.
        foreach (var eni in enis.OrderBy(e => associations.ContainsKey(e.Id) ? 0 : 1))
        {
            var uid = eni.Tag(EniTags.PodUid);
            if (eni.Tag(EniTags.TrunkEniId) != trunk.EniId || uid is null
                || !int.TryParse(eni.Tag(EniTags.VlanId), NumberStyles.None, CultureInfo.InvariantCulture, out var vlan))
            {
                continue;
            }

            if (table.Get(uid) is not null || !table.Vlans.TryReserve(vlan))
            {
                log.Warning("Branch ENI {EniId} claims VLAN {VlanId} for pod {PodUid}, already taken; left to garbage collection", eni.Id, vlan, uid);
                continue;
            }

            recordList.TryGetValue(uid, out var record);
            table.Set(new BranchEntry
            {
                PodUid = uid,
                PodNamespace = record?.PodNamespace ?? "",
                PodName = record?.PodName ?? "",
                VlanId = vlan,
                EniId = eni.Id,
                MacAddress = eni.MacAddress,
                PrivateIp = eni.PrivateIp,
                SecurityGroups = eni.Groups,
                AssociationId = associations.TryGetValue(eni.Id, out var a) ? a.AssociationId : null,
            });
        }

        foreach (var (uid, record) in recordList)
        {
            if (table.Get(uid) is not { } entry || entry.EniId != record.EniId)
            {
                log.Information("Record of pod {PodUid} names ENI {EniId}, which is not ours any more; deleting the record", uid, record.EniId);
                records.DeletePod(uid);
            }
        }

        log.Information("Rebuilt {Count} branch ENIs from tags ({Associated} associated, {Records} records)",
            table.Count, table.Snapshot().Count(e => e.AssociationId is not null), recordList.Count);
    }

    /// <summary>One collection pass; returns the ENIs deleted.</summary>
    public async Task<IReadOnlyList<string>> CollectAsync(Func<string, bool> isLivePod, CancellationToken ct)
    {
        var enis = await provisioner.OurBranchEnisAsync(ct).ConfigureAwait(false);
        var available = new HashSet<string>(StringComparer.Ordinal);
        var deleted = new List<string>();
        foreach (var eni in enis)
        {
            var uid = eni.Tag(EniTags.PodUid);
            var claimed = table.TracksEni(eni.Id) || (uid is not null && (table.Get(uid) is not null || isLivePod(uid)));
            if (claimed || eni.Status != "available")
            {
                continue;
            }

            if (!_availableLastPass.Contains(eni.Id))
            {
                available.Add(eni.Id);
                continue;
            }

            if (await provisioner.DeleteLeakedAsync(eni.Id, ct).ConfigureAwait(false))
            {
                log.Information("Deleted leaked branch ENI {EniId} (VLAN tag {VlanId}, pod {PodUid})", eni.Id, eni.Tag(EniTags.VlanId), uid);
            }

            deleted.Add(eni.Id);
        }

        _availableLastPass = available;
        return deleted;
    }
}
