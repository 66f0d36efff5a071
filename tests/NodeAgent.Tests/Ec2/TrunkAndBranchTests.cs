using Amazon.EC2.Model;
using BranchEni.Agent.Branches;
using BranchEni.Agent.Configuration;
using BranchEni.Agent.Ec2;
using BranchEni.Agent.Observability;
using BranchEni.Agent.Tests.Sandbox;
using BranchEni.Contracts;
using BranchEni.Sandbox.Hosting;

namespace BranchEni.Agent.Tests.Ec2;

/// <summary>The EC2 side through the real AWSSDK.EC2 client against the sandbox.</summary>
public sealed class TrunkAndBranchTests
{
    private static readonly InstanceTypeLimit M5Large = InstanceLimits.Load(null).Find("m5.large")!;

    [Fact]
    public async Task Identity_comes_from_imdsv2()
    {
        await using var world = await SandboxWorld.StartAsync();
        var id = await world.IdentityAsync();
        Assert.Equal(world.InstanceId, id.InstanceId);
        Assert.Equal("m5.large", id.InstanceType);
        Assert.Equal("us-west-2", id.Region);
        Assert.Equal("subnet-0a1b2c3d4e5f61001", id.SubnetId);
        Assert.Equal("vpc-0a1b2c3d4e5f60001", id.VpcId);
        Assert.Equal(["sg-0a1b2c3d4e5f62001"], id.SecurityGroupIds);
        Assert.Matches("^([0-9a-f]{2}:){5}[0-9a-f]{2}$", id.PrimaryMac);
    }

    [Fact]
    public async Task The_trunk_is_created_tagged_attached_at_the_highest_free_index_and_found_again()
    {
        await using var world = await SandboxWorld.StartAsync();
        var id = await world.IdentityAsync();
        var manager = new TrunkManager(world.Gateway(), id, "demo", Serilog.Core.Logger.None);
        var trunk = await manager.EnsureAsync(M5Large, CancellationToken.None);

        var eni = (await world.Ec2.DescribeNetworkInterfacesAsync(new DescribeNetworkInterfacesRequest { NetworkInterfaceIds = [trunk.EniId] })).NetworkInterfaces.Single();
        Assert.Equal("trunk", eni.InterfaceType.Value);
        Assert.Equal("aws-k8s-trunk-eni", eni.Description);
        Assert.Equal(["sg-0a1b2c3d4e5f62001"], eni.Groups.Select(g => g.GroupId));
        Assert.Equal(world.InstanceId, eni.Attachment.InstanceId);
        Assert.Equal(2, eni.Attachment.DeviceIndex);
        Assert.True(eni.Attachment.DeleteOnTermination);
        var tags = eni.TagSet.ToDictionary(t => t.Key, t => t.Value);
        Assert.Equal(world.InstanceId, tags["node.k8s.amazonaws.com/instance_id"]);
        Assert.Equal("owned", tags["kubernetes.io/cluster/demo"]);
        Assert.Equal("branch-eni", tags["eks:eni:owner"]);
        Assert.Equal("192.168.0.0/19", trunk.SubnetCidr);

        var again = await manager.EnsureAsync(M5Large, CancellationToken.None);
        Assert.Equal(trunk, again);
        Assert.Single(world.Host.Admin.Snapshot().NetworkInterfaces, e => e.InterfaceType == "trunk");
    }

    [Fact]
    public async Task A_branch_is_created_with_tags_and_groups_associated_on_its_vlan_and_released_idempotently()
    {
        await using var world = await SandboxWorld.StartAsync();
        var (provisioner, table, trunk) = await ProvisionerAsync(world);
        var entry = new BranchEntry { PodUid = "0b3c7a52-0000-4000-8000-000000000001", PodNamespace = "app", PodName = "green", VlanId = table.Vlans.TryAllocate()!.Value };
        table.Set(entry);
        entry = await provisioner.CompleteAsync(entry, ["sg-0a1b2c3d4e5f62002"], CancellationToken.None);

        Assert.True(entry.IsComplete);
        Assert.Equal(1, entry.VlanId);
        var snapshot = world.Host.Admin.Snapshot();
        var eni = snapshot.NetworkInterfaces.Single(e => e.Id == entry.EniId);
        Assert.Equal("aws-k8s-branch-eni", eni.Description);
        Assert.Equal(["sg-0a1b2c3d4e5f62002"], eni.GroupIds);
        Assert.Equal(trunk.EniId, eni.Tags["vpcresources.k8s.aws/trunk-eni-id"]);
        Assert.Equal("1", eni.Tags["vpcresources.k8s.aws/vlan-id"]);
        Assert.Equal(world.InstanceId, eni.Tags["node.k8s.amazonaws.com/instance_id"]);
        Assert.Equal("owned", eni.Tags["kubernetes.io/cluster/demo"]);
        Assert.Equal(eni.MacAddress, entry.MacAddress);
        var association = snapshot.Associations.Single(a => a.BranchInterfaceId == entry.EniId);
        Assert.Equal((trunk.EniId, 1, association.Id), (association.TrunkInterfaceId, association.VlanId, entry.AssociationId));

        // The annotation the agent would publish parses under the shared contract.
        BranchEniParser.Parse(new BranchEniInfo { EniId = entry.EniId, IfAddress = entry.MacAddress, PrivateIp = entry.PrivateIp, VlanId = entry.VlanId, SubnetCidr = trunk.SubnetCidr });

        await provisioner.ReleaseAsync(entry, CancellationToken.None);
        Assert.DoesNotContain(world.Host.Admin.Snapshot().NetworkInterfaces, e => e.Id == entry.EniId);
        Assert.Empty(world.Host.Admin.Snapshot().Associations);
        await provisioner.ReleaseAsync(entry, CancellationToken.None);
    }

    [Fact]
    public async Task Restart_rebuilds_the_vlan_map_from_tags_and_drops_records_of_vanished_enis()
    {
        await using var world = await SandboxWorld.StartAsync();
        var (provisioner, table, trunk) = await ProvisionerAsync(world);
        var records = new NodeRecords(world.StateDir);
        var made = new List<BranchEntry>();
        for (var i = 1; i <= 3; i++)
        {
            var entry = new BranchEntry { PodUid = $"0b3c7a52-0000-4000-8000-00000000000{i}", PodNamespace = "app", PodName = $"p{i}", VlanId = table.Vlans.TryAllocate()!.Value };
            table.Set(entry);
            made.Add(await provisioner.CompleteAsync(entry, ["sg-0a1b2c3d4e5f62002"], CancellationToken.None));
            records.WritePod(new PodRecord { PodUid = entry.PodUid, PodNamespace = "app", PodName = $"p{i}", EniId = made[^1].EniId, VlanId = i });
        }

        // Pod 2's ENI is released behind the agent's back; pod 3's association never happened (crash after create).
        await world.Ec2.DisassociateTrunkInterfaceAsync(new DisassociateTrunkInterfaceRequest { AssociationId = made[1].AssociationId });
        await world.Ec2.DeleteNetworkInterfaceAsync(new DeleteNetworkInterfaceRequest { NetworkInterfaceId = made[1].EniId });
        await world.Ec2.DisassociateTrunkInterfaceAsync(new DisassociateTrunkInterfaceRequest { AssociationId = made[2].AssociationId });

        var fresh = new BranchTable(new VlanAllocator(9));
        var freshProvisioner = new BranchProvisioner(world.Gateway(), fresh, trunk, world.InstanceId, "demo", Serilog.Core.Logger.None);
        await new Inventory(freshProvisioner, fresh, records, trunk, Serilog.Core.Logger.None).RebuildAsync(CancellationToken.None);

        Assert.Equal(2, fresh.Count);
        var first = fresh.Get(made[0].PodUid)!;
        Assert.Equal((made[0].EniId, 1, made[0].AssociationId, "p1"), (first.EniId, first.VlanId, first.AssociationId, first.PodName));
        var third = fresh.Get(made[2].PodUid)!;
        Assert.Equal((made[2].EniId, 3), (third.EniId, third.VlanId));
        Assert.Null(third.AssociationId);
        Assert.Null(records.ReadPod(made[1].PodUid));
        Assert.Equal(2, fresh.Vlans.TryAllocate());

        // Finishing pod 3 re-associates its existing ENI on its own VLAN instead of creating another.
        var completed = await freshProvisioner.CompleteAsync(third, [], CancellationToken.None);
        Assert.Equal(made[2].EniId, completed.EniId);
        Assert.Equal(3, world.Host.Admin.Snapshot().Associations.Single(a => a.BranchInterfaceId == made[2].EniId).VlanId);
    }

    [Fact]
    public async Task Garbage_collection_deletes_only_our_untracked_enis_seen_available_twice()
    {
        await using var world = await SandboxWorld.StartAsync();
        var (provisioner, table, trunk) = await ProvisionerAsync(world);
        var records = new NodeRecords(world.StateDir);
        var leaked = await CreateEniAsync(world, OurTags(world.InstanceId, trunk.EniId, "5", "0b3c7a52-0000-4000-8000-00000000000a"));
        var livePods = await CreateEniAsync(world, OurTags(world.InstanceId, trunk.EniId, "6", "0b3c7a52-0000-4000-8000-00000000000b"));
        var otherInstance = await CreateEniAsync(world, OurTags("i-0ffffffffffffffff", trunk.EniId, "7", "0b3c7a52-0000-4000-8000-00000000000c"));
        var notOurs = await CreateEniAsync(world, [("vpcresources.k8s.aws/vlan-id", "8"), ("node.k8s.amazonaws.com/instance_id", world.InstanceId)]);
        var untagged = await CreateEniAsync(world, []);

        var inventory = new Inventory(provisioner, table, records, trunk, Serilog.Core.Logger.None);
        bool IsLive(string uid) => uid == "0b3c7a52-0000-4000-8000-00000000000b";
        Assert.Empty(await inventory.CollectAsync(IsLive, CancellationToken.None));
        Assert.Equal([leaked], await inventory.CollectAsync(IsLive, CancellationToken.None));

        var left = world.Host.Admin.Snapshot().NetworkInterfaces.Select(e => e.Id).ToHashSet();
        Assert.DoesNotContain(leaked, left);
        Assert.Contains(livePods, left);
        Assert.Contains(otherInstance, left);
        Assert.Contains(notOurs, left);
        Assert.Contains(untagged, left);
    }

    [Fact]
    public async Task Throttled_calls_are_retried_and_counted()
    {
        await using var world = await SandboxWorld.StartAsync();
        world.Host.Admin.AddThrottleBurst(new ThrottleBurst { Action = "DescribeNetworkInterfaces", Count = 2 });
        var metrics = new AgentMetrics();
        var gateway = world.Gateway(metrics, new Ec2CallLimits { BaseDelay = TimeSpan.FromMilliseconds(5) });
        await gateway.DescribeEnisAsync([new Filter("subnet-id", ["subnet-0a1b2c3d4e5f61001"])], CancellationToken.None);
        Assert.Equal(2, metrics.Ec2Calls("DescribeNetworkInterfaces", "throttled"));
        Assert.Equal(1, metrics.Ec2Calls("DescribeNetworkInterfaces", "success"));
        Assert.Contains("branch_eni_ec2_throttles_total{action=\"DescribeNetworkInterfaces\"} 2", metrics.Render(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_wrong_vlan_in_the_association_answer_is_refused()
    {
        await using var world = await SandboxWorld.StartAsync();
        var (provisioner, table, trunk) = await ProvisionerAsync(world);
        var entry = new BranchEntry { PodUid = "0b3c7a52-0000-4000-8000-0000000000ff", PodNamespace = "app", PodName = "x", VlanId = 1 };
        table.Vlans.TryReserve(1);
        entry = await provisioner.CompleteAsync(entry, ["sg-0a1b2c3d4e5f62002"], CancellationToken.None);

        // Another branch already on VLAN 1 of the trunk: EC2 refuses, the agent reports it and does not retry blindly.
        var second = new BranchEntry { PodUid = "0b3c7a52-0000-4000-8000-0000000000fe", PodNamespace = "app", PodName = "y", VlanId = 1 };
        var e = await Assert.ThrowsAsync<Amazon.EC2.AmazonEC2Exception>(() => provisioner.CompleteAsync(second, ["sg-0a1b2c3d4e5f62002"], CancellationToken.None));
        Assert.Contains("InvalidParameterValue", e.ErrorCode, StringComparison.Ordinal);
    }

    private static (string, string)[] OurTags(string instance, string trunk, string vlan, string uid) =>
    [
        ("node.k8s.amazonaws.com/instance_id", instance), ("eks:eni:owner", "branch-eni"), ("kubernetes.io/cluster/demo", "owned"),
        ("vpcresources.k8s.aws/trunk-eni-id", trunk), ("vpcresources.k8s.aws/vlan-id", vlan), ("branch-eni.k8s.aws/pod-uid", uid),
    ];

    private static async Task<string> CreateEniAsync(SandboxWorld world, (string, string)[] tags)
    {
        var request = new CreateNetworkInterfaceRequest { SubnetId = "subnet-0a1b2c3d4e5f61001", Groups = ["sg-0a1b2c3d4e5f62002"] };
        if (tags.Length > 0)
        {
            request.TagSpecifications = Ec2Gateway.TagSpec(tags);
        }

        return (await world.Ec2.CreateNetworkInterfaceAsync(request)).NetworkInterface.NetworkInterfaceId;
    }

    private static async Task<(BranchProvisioner, BranchTable, Trunk)> ProvisionerAsync(SandboxWorld world)
    {
        var id = await world.IdentityAsync();
        var trunk = await new TrunkManager(world.Gateway(), id, "demo", Serilog.Core.Logger.None).EnsureAsync(M5Large, CancellationToken.None);
        var table = new BranchTable(new VlanAllocator(9));
        return (new BranchProvisioner(world.Gateway(), table, trunk, id.InstanceId, "demo", Serilog.Core.Logger.None), table, trunk);
    }
}
