using System.Net;

namespace BranchEni.Sandbox.Ec2.Model;

/// <summary>The emulated VPC; one per sandbox, as in the demo's single-VPC scenario.</summary>
internal sealed record Vpc(string Id, string CidrBlock);

/// <summary>A subnet with its own address pool (allocation lives in <see cref="AddressPool"/>).</summary>
internal sealed class Subnet(string id, string vpcId, string availabilityZone, AddressPool pool)
{
    public string Id { get; } = id;
    public string VpcId { get; } = vpcId;
    public string AvailabilityZone { get; } = availabilityZone;
    public AddressPool Pool { get; } = pool;
    public string CidrBlock => Pool.Cidr;
}

internal sealed record SecurityGroup(string Id, string Name, string Description, string VpcId)
{
    public IReadOnlyList<IngressRule> Ingress { get; init; } = [];
}

/// <summary>An inbound permission; ports are unset for protocol -1 and icmp.</summary>
internal sealed record IngressRule(string Protocol, int? FromPort, int? ToPort, IReadOnlyList<string> Cidrs, IReadOnlyList<string> SourceGroupIds);

/// <summary>A route-table entry whose target is an instance.</summary>
internal sealed record InstanceRoute(string DestinationCidrBlock, string InstanceId);

/// <summary>A running instance: its type decides how many interfaces (device indexes) it takes.</summary>
internal sealed class Instance(string id, string instanceType, string subnetId, string availabilityZone)
{
    public string Id { get; } = id;
    public string InstanceType { get; } = instanceType;
    public string SubnetId { get; } = subnetId;
    public string AvailabilityZone { get; } = availabilityZone;
    public string ImageId { get; init; } = "ami-0sandbox00000000";
    public DateTimeOffset LaunchTime { get; init; } = DateTimeOffset.UtcNow;
    public string PrimaryEniId { get; set; } = "";
    public Dictionary<string, string> Tags { get; } = new(StringComparer.Ordinal);

    /// <summary>Set by TerminateInstance; a terminated instance stays visible to DescribeInstances for a while.</summary>
    public DateTimeOffset? TerminatedAt { get; set; }

    public bool Running => TerminatedAt is null;
    public string StateName => Running ? "running" : "terminated";
    public int StateCode => Running ? 16 : 48;
}

internal enum InterfaceType
{
    Interface,
    Trunk,
    Branch,
}

internal sealed class Attachment(string id, string instanceId, int deviceIndex, DateTimeOffset attachTime)
{
    public string Id { get; } = id;
    public string InstanceId { get; } = instanceId;
    public int DeviceIndex { get; } = deviceIndex;
    public DateTimeOffset AttachTime { get; } = attachTime;
    public bool DeleteOnTermination { get; set; }
}

internal sealed class NetworkInterface(string id, Subnet subnet, string macAddress, IPAddress privateIp)
{
    public string Id { get; } = id;
    public Subnet Subnet { get; } = subnet;
    public string MacAddress { get; } = macAddress;
    public IPAddress PrivateIp { get; } = privateIp;
    public InterfaceType Type { get; set; } = InterfaceType.Interface;
    public string Description { get; set; } = "";
    public List<string> GroupIds { get; set; } = [];
    public bool SourceDestCheck { get; set; } = true;
    public Dictionary<string, string> Tags { get; } = new(StringComparer.Ordinal);
    public Attachment? Attachment { get; set; }

    /// <summary>Associated with a trunk (a branch): EC2 then reports it in-use although it has no attachment.</summary>
    public bool Associated { get; set; }

    public string Status => Attachment is null && !Associated ? "available" : "in-use";

    public string TypeName => Type switch
    {
        InterfaceType.Trunk => "trunk",
        InterfaceType.Branch => "branch",
        _ => "interface",
    };
}

/// <summary>A branch ENI associated to a trunk under a VLAN id (AssociateTrunkInterface).</summary>
internal sealed record TrunkAssociation(string Id, string BranchInterfaceId, string TrunkInterfaceId, int VlanId);

internal sealed record InterfacePermission(string Id, string NetworkInterfaceId, string? AwsAccountId, string? AwsService, string Permission);
