namespace BranchEni.Sandbox.Seed;

/// <summary>The world when no seed file is given: the demo's VPC with one m5.large node and two pod SGs.</summary>
public static class DefaultSeed
{
    public const string NodeInstanceId = "i-0a1b2c3d4e5f63001";
    public const string NodeSubnetId = "subnet-0a1b2c3d4e5f61001";
    public const string NodeSecurityGroupId = "sg-0a1b2c3d4e5f62001";

    public static SandboxSeed Create() => new()
    {
        Vpc = new VpcSeed { Id = "vpc-0a1b2c3d4e5f60001", CidrBlock = "192.168.0.0/16" },
        Subnets =
        [
            new SubnetSeed { Id = NodeSubnetId, CidrBlock = "192.168.0.0/19", AvailabilityZone = "us-west-2a" },
            new SubnetSeed { Id = "subnet-0a1b2c3d4e5f61002", CidrBlock = "192.168.32.0/19", AvailabilityZone = "us-west-2b" },
        ],
        SecurityGroups =
        [
            new SecurityGroupSeed { Id = NodeSecurityGroupId, Name = "eks-node", Description = "node security group" },
            new SecurityGroupSeed { Id = "sg-0a1b2c3d4e5f62002", Name = "green", Description = "may reach the database" },
            new SecurityGroupSeed { Id = "sg-0a1b2c3d4e5f62003", Name = "rds", Description = "the database" },
        ],
        Instances =
        [
            new InstanceSeed
            {
                Id = NodeInstanceId,
                InstanceType = "m5.large",
                SubnetId = NodeSubnetId,
                SecurityGroupIds = [NodeSecurityGroupId],
                PrivateIp = "192.168.10.10",
            },
        ],
        Nodes = [new NodeSeed { Name = "node-1", InstanceId = NodeInstanceId }],
    };
}
