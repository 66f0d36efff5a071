using Amazon.EC2.Model;
using BranchEni.Sandbox.Seed;

namespace BranchEni.Sandbox.Tests.Ec2;

/// <summary>Filters (tag:K, tag-key, status, attachment, groups), MaxResults/NextToken and tag changes.</summary>
public sealed class DescribeAndTagTests
{
    [Fact]
    public async Task Filters_select_by_tags_status_type_attachment_and_group()
    {
        await using var sandbox = await TestSandbox.StartAsync();
        using var ec2 = TestSandbox.Ec2(sandbox);
        var trunk = await Ec2Steps.AttachedTrunkAsync(ec2, DefaultSeed.NodeInstanceId);
        var ours = await Ec2Steps.BranchAsync(ec2, tags: [new Tag("eks:eni:owner", "branch-eni"), new Tag("vpcresources.k8s.aws/vlan-id", "4")]);
        var foreign = await Ec2Steps.BranchAsync(ec2, tags: [new Tag("eks:eni:owner", "someone-else")]);

        async Task<List<string>> Ids(params Filter[] filters) =>
            ((await ec2.DescribeNetworkInterfacesAsync(new DescribeNetworkInterfacesRequest { Filters = [.. filters] })).NetworkInterfaces ?? [])
                .Select(n => n.NetworkInterfaceId).Order(StringComparer.Ordinal).ToList();

        Assert.Equal([ours], await Ids(new Filter("tag:eks:eni:owner", ["branch-eni"])));
        Assert.Equal(new[] { ours, foreign }.Order(StringComparer.Ordinal), await Ids(new Filter("tag-key", ["eks:eni:owner"])));
        Assert.Equal([ours], await Ids(new Filter("tag:vpcresources.k8s.aws/vlan-id", ["*"]), new Filter("status", ["available"])));
        Assert.Equal([trunk], await Ids(new Filter("interface-type", ["trunk"])));
        Assert.Equal(2, (await Ids(new Filter("attachment.instance-id", [DefaultSeed.NodeInstanceId]))).Count);
        Assert.Equal(new[] { ours, foreign }.Order(StringComparer.Ordinal), await Ids(new Filter("group-id", ["sg-0a1b2c3d4e5f62002"]), new Filter("vpc-id", ["vpc-0a1b2c3d4e5f60001"])));
        Assert.Equal(new[] { ours, foreign }.Order(StringComparer.Ordinal), await Ids(new Filter("description", ["aws-k8s-branch-*"])));
        Assert.Empty(await Ids(new Filter("subnet-id", ["subnet-0a1b2c3d4e5f61002"])));
    }

    [Fact]
    public async Task Pages_of_max_results_cover_every_interface_exactly_once()
    {
        await using var sandbox = await TestSandbox.StartAsync();
        using var ec2 = TestSandbox.Ec2(sandbox);
        for (var i = 0; i < 12; i++)
        {
            await Ec2Steps.BranchAsync(ec2);
        }

        var seen = new List<string>();
        var pages = 0;
        string? token = null;
        do
        {
            var page = await ec2.DescribeNetworkInterfacesAsync(new DescribeNetworkInterfacesRequest { MaxResults = 5, NextToken = token, Filters = [new Filter("status", ["available"])] });
            Assert.True(page.NetworkInterfaces.Count <= 5);
            seen.AddRange(page.NetworkInterfaces.Select(n => n.NetworkInterfaceId));
            token = page.NextToken;
            pages++;
        }
        while (token is not null && pages < 10);

        Assert.Equal(3, pages);
        Assert.Equal(12, seen.Distinct().Count());
        Assert.Equal(12, seen.Count);

        var bad = await Assert.ThrowsAsync<Amazon.EC2.AmazonEC2Exception>(() =>
            ec2.DescribeNetworkInterfacesAsync(new DescribeNetworkInterfacesRequest { MaxResults = 5, NextToken = "not-a-token" }));
        Assert.Equal("InvalidNextToken", bad.ErrorCode);
    }

    [Fact]
    public async Task Create_and_delete_tags_change_only_what_they_name()
    {
        await using var sandbox = await TestSandbox.StartAsync();
        using var ec2 = TestSandbox.Ec2(sandbox);
        var eni = await Ec2Steps.BranchAsync(ec2);
        await ec2.CreateTagsAsync(new CreateTagsRequest { Resources = [eni], Tags = [new Tag("a", "1"), new Tag("b", "2"), new Tag("c", "3")] });
        await ec2.DeleteTagsAsync(new DeleteTagsRequest { Resources = [eni], Tags = [new Tag { Key = "a" }, new Tag("b", "wrong-value")] });
        var tags = (await ec2.DescribeNetworkInterfacesAsync(new DescribeNetworkInterfacesRequest { NetworkInterfaceIds = [eni] })).NetworkInterfaces[0].TagSet;
        Assert.Equal(["b=2", "c=3"], tags.Select(t => $"{t.Key}={t.Value}").Order(StringComparer.Ordinal));

        var missing = await Assert.ThrowsAsync<Amazon.EC2.AmazonEC2Exception>(() =>
            ec2.CreateTagsAsync(new CreateTagsRequest { Resources = [eni, "eni-0123456789abcdef0"], Tags = [new Tag("d", "4")] }));
        Assert.Equal("InvalidNetworkInterfaceID.NotFound", missing.ErrorCode);
        Assert.False(sandbox.Admin.Snapshot().NetworkInterfaces.Single(n => n.Id == eni).Tags.ContainsKey("d"));
    }

    [Fact]
    public async Task Subnets_groups_and_permissions_are_described_in_the_sdk_shapes()
    {
        await using var sandbox = await TestSandbox.StartAsync();
        using var ec2 = TestSandbox.Ec2(sandbox);
        var subnets = (await ec2.DescribeSubnetsAsync(new DescribeSubnetsRequest { Filters = [new Filter("vpc-id", ["vpc-0a1b2c3d4e5f60001"])] })).Subnets;
        Assert.Equal(2, subnets.Count);
        var nodeSubnet = subnets.Single(s => s.SubnetId == DefaultSeed.NodeSubnetId);
        Assert.Equal("192.168.0.0/19", nodeSubnet.CidrBlock);
        Assert.Equal("us-west-2a", nodeSubnet.AvailabilityZone);
        Assert.Equal(8192 - 5 - 1, nodeSubnet.AvailableIpAddressCount);

        var groups = (await ec2.DescribeSecurityGroupsAsync(new DescribeSecurityGroupsRequest { GroupIds = ["sg-0a1b2c3d4e5f62002"] })).SecurityGroups;
        Assert.Equal("green", Assert.Single(groups).GroupName);
        Assert.Equal("vpc-0a1b2c3d4e5f60001", groups[0].VpcId);

        var eni = await Ec2Steps.BranchAsync(ec2);
        var permission = (await ec2.CreateNetworkInterfacePermissionAsync(new()
        {
            NetworkInterfaceId = eni, AwsAccountId = "210987654321", Permission = Amazon.EC2.InterfacePermissionType.INSTANCEATTACH,
        })).InterfacePermission;
        Assert.StartsWith("eni-perm-", permission.NetworkInterfacePermissionId, StringComparison.Ordinal);
        Assert.Equal("210987654321", permission.AwsAccountId);
        Assert.Equal("granted", permission.PermissionState.State.Value);
    }
}
