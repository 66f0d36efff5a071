using Amazon.EC2;
using Amazon.EC2.Model;
using BranchEni.Sandbox.Seed;

namespace BranchEni.Sandbox.Tests.Ec2;

/// <summary>Small EC2 sequences several tests share, done through the real SDK.</summary>
internal static class Ec2Steps
{
    public static async Task<string> AttachedTrunkAsync(AmazonEC2Client ec2, string instanceId, int deviceIndex = 2, string subnetId = DefaultSeed.NodeSubnetId)
    {
        var trunk = (await ec2.CreateNetworkInterfaceAsync(new CreateNetworkInterfaceRequest
        {
            SubnetId = subnetId,
            InterfaceType = NetworkInterfaceCreationType.Trunk,
            Description = "aws-k8s-trunk-eni",
        })).NetworkInterface.NetworkInterfaceId;
        await ec2.AttachNetworkInterfaceAsync(new AttachNetworkInterfaceRequest
        {
            NetworkInterfaceId = trunk, InstanceId = instanceId, DeviceIndex = deviceIndex,
        });
        return trunk;
    }

    public static async Task<string> BranchAsync(AmazonEC2Client ec2, string subnetId = DefaultSeed.NodeSubnetId, List<Tag>? tags = null) =>
        (await ec2.CreateNetworkInterfaceAsync(new CreateNetworkInterfaceRequest
        {
            SubnetId = subnetId,
            Description = "aws-k8s-branch-eni",
            Groups = ["sg-0a1b2c3d4e5f62002"],
            TagSpecifications = tags is null ? null : [new TagSpecification { ResourceType = ResourceType.NetworkInterface, Tags = tags }],
        })).NetworkInterface.NetworkInterfaceId;
}
