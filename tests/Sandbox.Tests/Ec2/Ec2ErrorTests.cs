using System.Net;
using Amazon.EC2;
using Amazon.EC2.Model;
using BranchEni.Sandbox.Seed;

namespace BranchEni.Sandbox.Tests.Ec2;

/// <summary>Every error code the agent must handle, as the real SDK surfaces it (code, status), and nothing changed.</summary>
public sealed class Ec2ErrorTests
{
    private static async Task<AmazonEC2Exception> FailsAsync(Func<Task> call, string code, HttpStatusCode status = HttpStatusCode.BadRequest)
    {
        var e = await Assert.ThrowsAsync<AmazonEC2Exception>(call);
        Assert.Equal(code, e.ErrorCode);
        Assert.Equal(status, e.StatusCode);
        Assert.False(string.IsNullOrEmpty(e.RequestId));
        return e;
    }

    [Fact]
    public async Task Not_found_ids_answer_the_not_found_codes_release_treats_as_done()
    {
        await using var sandbox = await TestSandbox.StartAsync();
        using var ec2 = TestSandbox.Ec2(sandbox);
        var e = await FailsAsync(() => ec2.DeleteNetworkInterfaceAsync(new() { NetworkInterfaceId = "eni-0123456789abcdef0" }),
            "InvalidNetworkInterfaceID.NotFound");
        Assert.Contains("eni-0123456789abcdef0", e.Message, StringComparison.Ordinal);
        await FailsAsync(() => ec2.DisassociateTrunkInterfaceAsync(new() { AssociationId = "trunk-assoc-0123456789abcdef0" }),
            "InvalidAssociationID.NotFound");
        await FailsAsync(() => ec2.DescribeNetworkInterfacesAsync(new DescribeNetworkInterfacesRequest { NetworkInterfaceIds = ["eni-0123456789abcdef0"] }),
            "InvalidNetworkInterfaceID.NotFound");
        await FailsAsync(() => ec2.DescribeInstancesAsync(new DescribeInstancesRequest { InstanceIds = ["i-0123456789abcdef0"] }), "InvalidInstanceID.NotFound");
    }

    [Fact]
    public async Task Missing_and_invalid_parameters_are_refused_without_side_effects()
    {
        await using var sandbox = await TestSandbox.StartAsync();
        using var ec2 = TestSandbox.Ec2(sandbox);
        var before = sandbox.Admin.Snapshot().NetworkInterfaces.Count;
        await FailsAsync(() => ec2.CreateNetworkInterfaceAsync(new() { Description = "no subnet" }), "MissingParameter");
        await FailsAsync(() => ec2.CreateNetworkInterfaceAsync(new() { SubnetId = DefaultSeed.NodeSubnetId, Groups = ["sg-0000000000000dead"] }),
            "InvalidGroup.NotFound");
        await FailsAsync(() => ec2.CreateNetworkInterfaceAsync(new() { SubnetId = DefaultSeed.NodeSubnetId, PrivateIpAddress = "10.9.9.9" }),
            "InvalidParameterValue");
        await FailsAsync(() => ec2.CreateNetworkInterfaceAsync(new()
        {
            SubnetId = DefaultSeed.NodeSubnetId,
            TagSpecifications = [new TagSpecification { ResourceType = ResourceType.NetworkInterface, Tags = [new Tag("aws:reserved", "x")] }],
        }), "InvalidParameterValue");
        var branch = await Ec2Steps.BranchAsync(ec2);
        var trunk = await Ec2Steps.AttachedTrunkAsync(ec2, DefaultSeed.NodeInstanceId);
        await FailsAsync(() => ec2.AssociateTrunkInterfaceAsync(new() { BranchInterfaceId = branch, TrunkInterfaceId = trunk }), "MissingParameter");
        await FailsAsync(() => ec2.AssociateTrunkInterfaceAsync(new() { BranchInterfaceId = trunk, TrunkInterfaceId = branch, VlanId = 3 }),
            "InvalidParameterValue");
        await FailsAsync(() => ec2.DescribeNetworkInterfacesAsync(new DescribeNetworkInterfacesRequest { Filters = [new Filter("no-such-filter", ["x"])] }),
            "InvalidParameterValue");
        Assert.Equal(before + 2, sandbox.Admin.Snapshot().NetworkInterfaces.Count);
        Assert.Empty(sandbox.Admin.Snapshot().Associations);
    }

    [Fact]
    public async Task Attachments_respect_device_index_limits_and_in_use_interfaces()
    {
        await using var sandbox = await TestSandbox.StartAsync();
        using var ec2 = TestSandbox.Ec2(sandbox);
        var eni = await Ec2Steps.BranchAsync(ec2);
        var node = DefaultSeed.NodeInstanceId;
        await FailsAsync(() => ec2.AttachNetworkInterfaceAsync(new() { NetworkInterfaceId = eni, InstanceId = node, DeviceIndex = 0 }),
            "InvalidParameterValue");
        await FailsAsync(() => ec2.AttachNetworkInterfaceAsync(new() { NetworkInterfaceId = eni, InstanceId = node, DeviceIndex = 3 }),
            "AttachmentLimitExceeded");
        var attachment = (await ec2.AttachNetworkInterfaceAsync(new() { NetworkInterfaceId = eni, InstanceId = node, DeviceIndex = 1 })).AttachmentId;
        await FailsAsync(() => ec2.AttachNetworkInterfaceAsync(new() { NetworkInterfaceId = eni, InstanceId = node, DeviceIndex = 2 }),
            "InvalidNetworkInterface.InUse");
        await FailsAsync(() => ec2.DeleteNetworkInterfaceAsync(new() { NetworkInterfaceId = eni }), "InvalidNetworkInterface.InUse");
        await Ec2Steps.AttachedTrunkAsync(ec2, node, deviceIndex: 2);
        var fourth = await Ec2Steps.BranchAsync(ec2);
        await FailsAsync(() => ec2.AttachNetworkInterfaceAsync(new() { NetworkInterfaceId = fourth, InstanceId = node, DeviceIndex = 2 }),
            "AttachmentLimitExceeded");
        var primary = sandbox.Admin.Snapshot().NetworkInterfaces.Single(n => n.DeviceIndex == 0);
        var primaryAttachment = (await ec2.DescribeNetworkInterfacesAsync(new DescribeNetworkInterfacesRequest { NetworkInterfaceIds = [primary.Id] }))
            .NetworkInterfaces[0].Attachment.AttachmentId;
        await FailsAsync(() => ec2.DetachNetworkInterfaceAsync(new() { AttachmentId = primaryAttachment }), "OperationNotPermitted");
        await ec2.DetachNetworkInterfaceAsync(new() { AttachmentId = attachment });
        await FailsAsync(() => ec2.DetachNetworkInterfaceAsync(new() { AttachmentId = attachment }), "InvalidAttachmentID.NotFound");
        await ec2.DeleteNetworkInterfaceAsync(new() { NetworkInterfaceId = eni });
    }

    [Fact]
    public async Task Trunks_are_refused_on_instance_types_without_trunking()
    {
        await using var sandbox = await TestSandbox.StartAsync();
        using var ec2 = TestSandbox.Ec2(sandbox);
        var t3 = sandbox.Admin.AddInstance(new InstanceSeed { Id = "i-0a1b2c3d4e5f630f3", InstanceType = "t3.medium", SubnetId = DefaultSeed.NodeSubnetId });
        var e = await Assert.ThrowsAsync<AmazonEC2Exception>(() => Ec2Steps.AttachedTrunkAsync(ec2, t3, deviceIndex: 1));
        Assert.Equal("InvalidParameterCombination", e.ErrorCode);
    }

    [Fact]
    public async Task A_full_subnet_answers_insufficient_free_addresses_and_frees_them_on_delete()
    {
        await using var sandbox = await TestSandbox.StartAsync(o =>
            o.Seed.Subnets.Add(new SubnetSeed { Id = "subnet-0a1b2c3d4e5f610ff", CidrBlock = "192.168.100.0/28", AvailabilityZone = "us-west-2a" }));
        using var ec2 = TestSandbox.Ec2(sandbox);
        var created = new List<string>();
        for (var i = 0; i < 11; i++)
        {
            // A /28 has 16 addresses; EC2 keeps 5 (network, router, DNS, reserved, broadcast).
            created.Add(await Ec2Steps.BranchAsync(ec2, "subnet-0a1b2c3d4e5f610ff"));
        }

        var subnet = Assert.Single((await ec2.DescribeSubnetsAsync(new DescribeSubnetsRequest { SubnetIds = ["subnet-0a1b2c3d4e5f610ff"] })).Subnets);
        Assert.Equal(0, subnet.AvailableIpAddressCount);
        Assert.Equal("192.168.100.0/28", subnet.CidrBlock);
        await FailsAsync(() => Ec2Steps.BranchAsync(ec2, "subnet-0a1b2c3d4e5f610ff"), "InsufficientFreeAddressesInSubnet");
        var addresses = sandbox.Admin.Snapshot().NetworkInterfaces.Where(n => n.SubnetId == "subnet-0a1b2c3d4e5f610ff").Select(n => n.PrivateIp).ToList();
        Assert.Equal(11, addresses.Distinct().Count());
        Assert.DoesNotContain("192.168.100.1", addresses);
        Assert.DoesNotContain("192.168.100.15", addresses);
        await ec2.DeleteNetworkInterfaceAsync(new() { NetworkInterfaceId = created[3] });
        await Ec2Steps.BranchAsync(ec2, "subnet-0a1b2c3d4e5f610ff");
    }
}
