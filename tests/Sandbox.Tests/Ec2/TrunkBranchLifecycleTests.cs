using System.Text.RegularExpressions;
using Amazon.EC2;
using Amazon.EC2.Model;
using BranchEni.Sandbox.Seed;

namespace BranchEni.Sandbox.Tests.Ec2;

/// <summary>The agent's whole EC2 conversation (DESIGN.md §2) through the real AWSSDK.EC2 client.</summary>
public sealed partial class TrunkBranchLifecycleTests
{
    [GeneratedRegex("^([0-9a-f]{2}:){5}[0-9a-f]{2}$")]
    private static partial Regex MacPattern();

    [Fact]
    public async Task Trunk_and_branch_lifecycle_is_answered_in_shapes_the_sdk_parses()
    {
        await using var sandbox = await TestSandbox.StartAsync();
        using var ec2 = TestSandbox.Ec2(sandbox);

        var instances = await ec2.DescribeInstancesAsync(new DescribeInstancesRequest { InstanceIds = [DefaultSeed.NodeInstanceId] });
        var node = Assert.Single(Assert.Single(instances.Reservations).Instances);
        Assert.Equal("m5.large", node.InstanceType.Value);
        Assert.Equal("running", node.State.Name.Value);
        var primary = Assert.Single(node.NetworkInterfaces);
        Assert.Equal(0, primary.Attachment.DeviceIndex);
        Assert.Equal("192.168.10.10", node.PrivateIpAddress);

        var trunk = (await ec2.CreateNetworkInterfaceAsync(new CreateNetworkInterfaceRequest
        {
            SubnetId = DefaultSeed.NodeSubnetId,
            InterfaceType = NetworkInterfaceCreationType.Trunk,
            Description = "aws-k8s-trunk-eni",
            Groups = [DefaultSeed.NodeSecurityGroupId],
            TagSpecifications = [new TagSpecification
            {
                ResourceType = ResourceType.NetworkInterface,
                Tags = [new Tag("node.k8s.amazonaws.com/instance_id", node.InstanceId), new Tag("eks:eni:owner", "branch-eni")],
            }],
        })).NetworkInterface;
        Assert.StartsWith("eni-", trunk.NetworkInterfaceId, StringComparison.Ordinal);
        Assert.Equal("trunk", trunk.InterfaceType.Value);
        Assert.Equal("available", trunk.Status.Value);
        Assert.Matches(MacPattern(), trunk.MacAddress);
        Assert.Equal("aws-k8s-trunk-eni", trunk.Description);
        Assert.Equal(DefaultSeed.NodeSecurityGroupId, Assert.Single(trunk.Groups).GroupId);
        Assert.Contains(trunk.TagSet, t => t.Key == "eks:eni:owner" && t.Value == "branch-eni");

        var attach = await ec2.AttachNetworkInterfaceAsync(new AttachNetworkInterfaceRequest
        {
            NetworkInterfaceId = trunk.NetworkInterfaceId, InstanceId = node.InstanceId, DeviceIndex = 2,
        });
        Assert.StartsWith("eni-attach-", attach.AttachmentId, StringComparison.Ordinal);
        await ec2.ModifyNetworkInterfaceAttributeAsync(new ModifyNetworkInterfaceAttributeRequest
        {
            NetworkInterfaceId = trunk.NetworkInterfaceId,
            Attachment = new NetworkInterfaceAttachmentChanges { AttachmentId = attach.AttachmentId, DeleteOnTermination = true },
        });

        var branch = (await ec2.CreateNetworkInterfaceAsync(new CreateNetworkInterfaceRequest
        {
            SubnetId = DefaultSeed.NodeSubnetId,
            Description = "aws-k8s-branch-eni",
            Groups = ["sg-0a1b2c3d4e5f62002", "sg-0a1b2c3d4e5f62003"],
        })).NetworkInterface;
        var association = (await ec2.AssociateTrunkInterfaceAsync(new AssociateTrunkInterfaceRequest
        {
            BranchInterfaceId = branch.NetworkInterfaceId, TrunkInterfaceId = trunk.NetworkInterfaceId, VlanId = 1,
        })).InterfaceAssociation;
        Assert.StartsWith("trunk-assoc-", association.AssociationId, StringComparison.Ordinal);
        Assert.Equal(1, association.VlanId);
        Assert.Equal(branch.NetworkInterfaceId, association.BranchInterfaceId);
        Assert.Equal(trunk.NetworkInterfaceId, association.TrunkInterfaceId);
        Assert.Equal("VLAN", association.InterfaceProtocol.Value);

        var described = await ec2.DescribeNetworkInterfacesAsync(new DescribeNetworkInterfacesRequest
        {
            NetworkInterfaceIds = [trunk.NetworkInterfaceId, branch.NetworkInterfaceId],
        });
        var trunkNow = described.NetworkInterfaces.Single(e => e.NetworkInterfaceId == trunk.NetworkInterfaceId);
        Assert.Equal("in-use", trunkNow.Status.Value);
        Assert.Equal(2, trunkNow.Attachment.DeviceIndex);
        Assert.True(trunkNow.Attachment.DeleteOnTermination);
        Assert.Equal(node.InstanceId, trunkNow.Attachment.InstanceId);
        var branchNow = described.NetworkInterfaces.Single(e => e.NetworkInterfaceId == branch.NetworkInterfaceId);
        Assert.Equal("branch", branchNow.InterfaceType.Value);
        Assert.Equal(["sg-0a1b2c3d4e5f62002", "sg-0a1b2c3d4e5f62003"], branchNow.Groups.Select(g => g.GroupId));
        Assert.NotEqual(trunk.PrivateIpAddress, branch.PrivateIpAddress);

        var associations = await ec2.DescribeTrunkInterfaceAssociationsAsync(new DescribeTrunkInterfaceAssociationsRequest
        {
            Filters = [new Filter("trunk-interface-association.trunk-interface-id", [trunk.NetworkInterfaceId])],
        });
        Assert.Equal(association.AssociationId, Assert.Single(associations.InterfaceAssociations).AssociationId);

        await ec2.DisassociateTrunkInterfaceAsync(new DisassociateTrunkInterfaceRequest { AssociationId = association.AssociationId });
        await ec2.DeleteNetworkInterfaceAsync(new DeleteNetworkInterfaceRequest { NetworkInterfaceId = branch.NetworkInterfaceId });
        await ec2.DetachNetworkInterfaceAsync(new DetachNetworkInterfaceRequest { AttachmentId = attach.AttachmentId });
        await ec2.DeleteNetworkInterfaceAsync(new DeleteNetworkInterfaceRequest { NetworkInterfaceId = trunk.NetworkInterfaceId });

        var left = sandbox.Admin.Snapshot();
        Assert.Equal(primary.NetworkInterfaceId, Assert.Single(left.NetworkInterfaces).Id);
        Assert.Empty(left.Associations);
    }

    [Fact]
    public async Task A_vlan_id_is_unique_per_trunk_but_reusable_on_another_trunk()
    {
        await using var sandbox = await TestSandbox.StartAsync(o => o.Seed.Instances.Add(new InstanceSeed
        {
            Id = "i-0a1b2c3d4e5f63002", InstanceType = "m5.large", SubnetId = DefaultSeed.NodeSubnetId,
            SecurityGroupIds = [DefaultSeed.NodeSecurityGroupId],
        }));
        using var ec2 = TestSandbox.Ec2(sandbox);
        var trunkA = await Ec2Steps.AttachedTrunkAsync(ec2, DefaultSeed.NodeInstanceId);
        var trunkB = await Ec2Steps.AttachedTrunkAsync(ec2, "i-0a1b2c3d4e5f63002");
        var first = await Ec2Steps.BranchAsync(ec2);
        var second = await Ec2Steps.BranchAsync(ec2);
        var third = await Ec2Steps.BranchAsync(ec2);

        await ec2.AssociateTrunkInterfaceAsync(new() { BranchInterfaceId = first, TrunkInterfaceId = trunkA, VlanId = 7 });
        var clash = await Assert.ThrowsAsync<AmazonEC2Exception>(() =>
            ec2.AssociateTrunkInterfaceAsync(new() { BranchInterfaceId = second, TrunkInterfaceId = trunkA, VlanId = 7 }));
        Assert.Equal("InvalidParameterValue", clash.ErrorCode);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, clash.StatusCode);
        await ec2.AssociateTrunkInterfaceAsync(new() { BranchInterfaceId = third, TrunkInterfaceId = trunkB, VlanId = 7 });

        var again = await Assert.ThrowsAsync<AmazonEC2Exception>(() =>
            ec2.AssociateTrunkInterfaceAsync(new() { BranchInterfaceId = first, TrunkInterfaceId = trunkB, VlanId = 8 }));
        Assert.Equal("InvalidNetworkInterface.InUse", again.ErrorCode);
        var badVlan = await Assert.ThrowsAsync<AmazonEC2Exception>(() =>
            ec2.AssociateTrunkInterfaceAsync(new() { BranchInterfaceId = second, TrunkInterfaceId = trunkA, VlanId = 4095 }));
        Assert.Equal("InvalidParameterValue", badVlan.ErrorCode);
        Assert.Equal(2, sandbox.Admin.Snapshot().Associations.Count);
    }

    [Fact]
    public async Task Branches_per_trunk_are_limited_by_the_instance_type()
    {
        await using var sandbox = await TestSandbox.StartAsync(o =>
            o.Seed.InstanceTypes["x1.tiny"] = new InstanceTypeSeed { MaxInterfaces = 2, MaxBranches = 2 });
        using var ec2 = TestSandbox.Ec2(sandbox);
        var id = sandbox.Admin.AddInstance(new InstanceSeed
        {
            Id = "i-0a1b2c3d4e5f63009", InstanceType = "x1.tiny", SubnetId = DefaultSeed.NodeSubnetId,
        });
        var trunk = await Ec2Steps.AttachedTrunkAsync(ec2, id, deviceIndex: 1);
        for (var vlan = 1; vlan <= 2; vlan++)
        {
            await ec2.AssociateTrunkInterfaceAsync(new() { BranchInterfaceId = await Ec2Steps.BranchAsync(ec2), TrunkInterfaceId = trunk, VlanId = vlan });
        }

        var over = await Assert.ThrowsAsync<AmazonEC2Exception>(async () =>
            await ec2.AssociateTrunkInterfaceAsync(new() { BranchInterfaceId = await Ec2Steps.BranchAsync(ec2), TrunkInterfaceId = trunk, VlanId = 3 }));
        Assert.Equal("AttachmentLimitExceeded", over.ErrorCode);
    }
}
