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
