namespace BranchEni.Sandbox.Seed;

/// <summary>
/// A cluster of <c>nodes</c> instances in the default seed's VPC: instance K is node <c>node-K</c>, each with its primary
/// ENI in the node subnet. That subnet is a /19 (8,187 usable addresses), enough for 1,000+ branch ENIs besides
/// every node's primary and trunk.
/// </summary>
public static class ClusterSeed
{
    public const int MaxNodes = 1000;

    public static SandboxSeed Create(int nodes, string instanceType = "m5.4xlarge")
    {
        if (nodes is < 1 or > MaxNodes)
        {
            throw new ArgumentOutOfRangeException(nameof(nodes), nodes, $"a cluster has 1 to {MaxNodes} nodes");
        }

        ArgumentException.ThrowIfNullOrWhiteSpace(instanceType);
        var seed = DefaultSeed.Create();
        seed.Instances = [];
        seed.Nodes = [];
        for (var k = 1; k <= nodes; k++)
        {
            // Distinct ids in EC2's 17-hex form; node-1 keeps the default seed's instance id and address.
            var id = k == 1 ? DefaultSeed.NodeInstanceId : $"i-0c1a5e{k:x11}";
            seed.Instances.Add(new InstanceSeed
            {
                Id = id,
                InstanceType = instanceType,
                SubnetId = DefaultSeed.NodeSubnetId,
                SecurityGroupIds = [DefaultSeed.NodeSecurityGroupId],
                PrivateIp = k == 1 ? "192.168.10.10" : null,
            });
            seed.Nodes.Add(new NodeSeed { Name = $"node-{k}", InstanceId = id });
        }

        return seed;
    }
}
