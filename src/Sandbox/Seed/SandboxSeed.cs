using System.Text.Json.Serialization;

namespace BranchEni.Sandbox.Seed;

/// <summary>
/// The world a sandbox starts with: one VPC, its subnets, security groups and running instances. Read from the
/// <c>--seed</c> file (JSON, camelCase; see seed.example.json) or built in code by tests.
/// </summary>
public sealed class SandboxSeed
{
    public string AccountId { get; set; } = "123456789012";
    public string Region { get; set; } = "us-west-2";
    public VpcSeed Vpc { get; set; } = new();
    public List<SubnetSeed> Subnets { get; set; } = [];
    public List<SecurityGroupSeed> SecurityGroups { get; set; } = [];
    public List<InstanceSeed> Instances { get; set; } = [];

    /// <summary>
    /// Stand-alone ENIs present at start, not attached to any instance: what a managed service (an RDS database,
    /// say) leaves in a subnet. The demo's fabric gives each one a host in the network namespace of its
    /// <c>fabric:netns</c> tag.
    /// </summary>
    public List<NetworkInterfaceSeed> NetworkInterfaces { get; set; } = [];

    /// <summary>Route-table entries that send a prefix to an instance (the node's pod range, say).</summary>
    public List<RouteSeed> Routes { get; set; } = [];

    /// <summary>Extra or overriding instance types (name -> limits) on top of the built-in table.</summary>
    public Dictionary<string, InstanceTypeSeed> InstanceTypes { get; set; } = [];

    /// <summary>The instance IMDS describes; unset: the first instance.</summary>
    public string? ImdsInstanceId { get; set; }

    /// <summary>Kubernetes nodes to create at start (one per instance is typical); unset: one per instance.</summary>
    public List<NodeSeed>? Nodes { get; set; }
}

public sealed class VpcSeed
{
    public string Id { get; set; } = "vpc-0a1b2c3d4e5f60001";
    public string CidrBlock { get; set; } = "192.168.0.0/16";
}

public sealed class SubnetSeed
{
    public string Id { get; set; } = "";
    public string CidrBlock { get; set; } = "";
    public string AvailabilityZone { get; set; } = "us-west-2a";
}

public sealed class SecurityGroupSeed
{
    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    public string Description { get; set; } = "";

    /// <summary>Inbound rules (none: nothing may open a connection to members). Outbound is always allowed.</summary>
    public List<IngressRuleSeed> Ingress { get; set; } = [];
}

/// <summary>One inbound permission: a protocol and port range from CIDRs and/or members of other groups.</summary>
public sealed class IngressRuleSeed
{
    /// <summary>tcp, udp, icmp or -1 (all).</summary>
    public string Protocol { get; set; } = "tcp";
    public int? FromPort { get; set; }
    public int? ToPort { get; set; }
    public List<string> Cidrs { get; set; } = [];
    public List<string> SourceGroupIds { get; set; } = [];
}

public sealed class NetworkInterfaceSeed
{
    public string Id { get; set; } = "";
    public string SubnetId { get; set; } = "";
    public string Description { get; set; } = "";
    public List<string> SecurityGroupIds { get; set; } = [];

    /// <summary>Unset: the subnet's next free address.</summary>
    public string? PrivateIp { get; set; }
    public Dictionary<string, string> Tags { get; set; } = [];
}

public sealed class RouteSeed
{
    public string DestinationCidrBlock { get; set; } = "";
    public string InstanceId { get; set; } = "";
}

public sealed class InstanceSeed
{
    public string Id { get; set; } = "";
    public string InstanceType { get; set; } = "m5.large";
    public string SubnetId { get; set; } = "";
    public List<string> SecurityGroupIds { get; set; } = [];

    /// <summary>Unset: the subnet's next free address.</summary>
    public string? PrivateIp { get; set; }

    /// <summary>Unset: generated.</summary>
    public string? PrimaryEniId { get; set; }

    /// <summary>Unset: generated.</summary>
    public string? MacAddress { get; set; }

    /// <summary>
    /// The instance's EC2 tags. <c>fabric:netns</c> names the network namespace (under /run/netns) that the demo's
    /// fabric plumbs this instance's NICs into, for a node other than the one the fabric was started for.
    /// </summary>
    public Dictionary<string, string> Tags { get; set; } = [];
}

public sealed class InstanceTypeSeed
{
    public int MaxInterfaces { get; set; }
    public int MaxBranches { get; set; }
}

public sealed class NodeSeed
{
    public string Name { get; set; } = "";
    public string InstanceId { get; set; } = "";
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip,
    AllowTrailingCommas = true,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    WriteIndented = true)]
[JsonSerializable(typeof(SandboxSeed))]
internal sealed partial class SeedJsonContext : JsonSerializerContext;
