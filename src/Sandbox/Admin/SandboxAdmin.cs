using BranchEni.Sandbox.Ec2;
using BranchEni.Sandbox.Ec2.Model;
using BranchEni.Sandbox.Ec2.Throttling;
using BranchEni.Sandbox.Hosting;
using BranchEni.Sandbox.Seed;

namespace BranchEni.Sandbox.Admin;

/// <summary>One ENI as the admin snapshot shows it (tests check leaks and tags with it).</summary>
public sealed class EniSnapshot
{
    public string Id { get; set; } = "";
    public string InterfaceType { get; set; } = "";
    public string Status { get; set; } = "";
    public string SubnetId { get; set; } = "";
    public string PrivateIp { get; set; } = "";
    public string MacAddress { get; set; } = "";
    public string Description { get; set; } = "";
    public List<string> GroupIds { get; set; } = [];
    public Dictionary<string, string> Tags { get; set; } = [];
    public string? InstanceId { get; set; }
    public int? DeviceIndex { get; set; }
}

public sealed class AssociationSnapshot
{
    public string Id { get; set; } = "";
    public string BranchInterfaceId { get; set; } = "";
    public string TrunkInterfaceId { get; set; } = "";
    public int VlanId { get; set; }
}

/// <summary>A security group with its inbound rules (outbound is always open in the sandbox).</summary>
public sealed class SecurityGroupSnapshot
{
    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    public List<IngressRuleSeed> Ingress { get; set; } = [];
}

public sealed class RouteSnapshot
{
    public string DestinationCidrBlock { get; set; } = "";
    public string InstanceId { get; set; } = "";
}

/// <summary>An instance and its state (running, or terminated while EC2 still answers for it).</summary>
public sealed class InstanceSnapshot
{
    public string Id { get; set; } = "";
    public string InstanceType { get; set; } = "";
    public string State { get; set; } = "";
    public Dictionary<string, string> Tags { get; set; } = [];
}

public sealed class Ec2Snapshot
{
    public List<InstanceSnapshot> Instances { get; set; } = [];
    public string VpcCidrBlock { get; set; } = "";
    public Dictionary<string, string> SubnetCidrBlocks { get; set; } = [];
    public List<EniSnapshot> NetworkInterfaces { get; set; } = [];
    public List<AssociationSnapshot> Associations { get; set; } = [];
    public List<SecurityGroupSnapshot> SecurityGroups { get; set; } = [];
    public List<RouteSnapshot> Routes { get; set; } = [];
}

/// <summary>
/// The sandbox's control surface, in process. The admin HTTP endpoint exposes exactly these operations as JSON,
/// so a test may use either.
/// </summary>
public sealed partial class SandboxAdmin
{
    private readonly Ec2State _state;
    private readonly Ec2Service _ec2;
    private readonly Ec2Throttle _throttle;
    private readonly Kubernetes.KubernetesStore _kubernetes;

    internal SandboxAdmin(Ec2State state, Ec2Service ec2, Ec2Throttle throttle, Kubernetes.KubernetesStore kubernetes)
    {
        _state = state;
        _ec2 = ec2;
        _throttle = throttle;
        _kubernetes = kubernetes;
    }

    /// <summary>Drops the API server's change history, so a watch from any earlier resourceVersion gets 410 Expired.</summary>
    public void CompactKubernetesHistory() => _kubernetes.Compact();

    public FaultSettings Faults
    {
        get => _ec2.Faults;
        set
        {
            foreach (var (action, fault) in value.Actions)
            {
                if (fault.ErrorRate is < 0 or > 1 || fault.LatencySpikeRate is < 0 or > 1 || fault.LatencySpikeMilliseconds < 0
                    || fault.HttpStatus is < 400 or > 599 || string.IsNullOrEmpty(fault.ErrorCode))
                {
                    throw new ArgumentException($"fault for '{action}': rates must be 0..1, spike >= 0 ms, httpStatus 4xx/5xx, errorCode set");
                }
            }

            _ec2.Faults = value;
        }
    }

    public LatencySettings Latency
    {
        get => _ec2.Latency;
        set => _ec2.Latency = value.DescribeMilliseconds < 0 || value.MutatingMilliseconds < 0 || value.JitterMilliseconds < 0
            ? throw new ArgumentException("latencies must not be negative")
            : value;
    }

    public ThrottleSettings Throttling
    {
        get => _throttle.Settings;
        set => _throttle.Reconfigure(value);
    }

    /// <summary>The next <c>count</c> calls of the action (or "*") answer RequestLimitExceeded.</summary>
    public void AddThrottleBurst(ThrottleBurst burst) => _throttle.AddBurst(burst);

    public IReadOnlyDictionary<string, Ec2CallCount> CallCounts => _ec2.Counts;

    /// <summary>The instance IMDS describes (one IMDS per sandbox; switch it to test another node's agent).</summary>
    public string? ImdsInstanceId
    {
        get
        {
            lock (_state.Gate)
            {
                return _state.ImdsInstanceId;
            }
        }

        set
        {
            lock (_state.Gate)
            {
                _state.ImdsInstanceId = value is null || _state.Instances.Any(i => i.Id == value && i.Running)
                    ? value
                    : throw new ArgumentException($"instance '{value}' does not exist or is terminated");
            }
        }
    }

    public Ec2Snapshot Snapshot()
    {
        lock (_state.Gate)
        {
            return new Ec2Snapshot
            {
                VpcCidrBlock = _state.Vpc.CidrBlock,
                SubnetCidrBlocks = _state.Subnets.ToDictionary(s => s.Id, s => s.CidrBlock, StringComparer.Ordinal),
                SecurityGroups = _state.SecurityGroups.Select(g => new SecurityGroupSnapshot
                {
                    Id = g.Id,
                    Name = g.Name,
                    Ingress = g.Ingress.Select(r => new IngressRuleSeed
                    {
                        Protocol = r.Protocol, FromPort = r.FromPort, ToPort = r.ToPort, Cidrs = [.. r.Cidrs], SourceGroupIds = [.. r.SourceGroupIds],
                    }).ToList(),
                }).ToList(),
                Instances = _state.Instances.Where(_state.Visible).OrderBy(i => i.Id, StringComparer.Ordinal).Select(i => new InstanceSnapshot
                {
                    Id = i.Id,
                    InstanceType = i.InstanceType,
                    State = i.StateName,
                    Tags = new Dictionary<string, string>(i.Tags, StringComparer.Ordinal),
                }).ToList(),
                Routes = _state.Routes.Select(r => new RouteSnapshot { DestinationCidrBlock = r.DestinationCidrBlock, InstanceId = r.InstanceId }).ToList(),
                NetworkInterfaces = _state.NetworkInterfaces.Select(e => new EniSnapshot
                {
                    Id = e.Id,
                    InterfaceType = e.TypeName,
                    Status = e.Status,
                    SubnetId = e.Subnet.Id,
                    PrivateIp = e.PrivateIp.ToString(),
                    MacAddress = e.MacAddress,
                    Description = e.Description,
                    GroupIds = [.. e.GroupIds],
                    Tags = new Dictionary<string, string>(e.Tags, StringComparer.Ordinal),
                    InstanceId = e.Attachment?.InstanceId,
                    DeviceIndex = e.Attachment?.DeviceIndex,
                }).ToList(),
                Associations = _state.Associations.Select(a => new AssociationSnapshot
                {
                    Id = a.Id,
                    BranchInterfaceId = a.BranchInterfaceId,
                    TrunkInterfaceId = a.TrunkInterfaceId,
                    VlanId = a.VlanId,
                }).ToList(),
            };
        }
    }
}
