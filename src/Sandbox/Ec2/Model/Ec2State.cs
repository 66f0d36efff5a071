using System.Net;
using BranchEni.Sandbox.Seed;

namespace BranchEni.Sandbox.Ec2.Model;

/// <summary>
/// The emulated account's EC2 world. Not thread-safe by itself: every caller holds <see cref="Gate"/> for the
/// whole of one API action (validation, mutation and rendering), so each action is atomic like EC2's.
/// Validation happens before any mutation, so a refused request changes nothing.
/// </summary>
internal sealed partial class Ec2State
{
    private readonly Dictionary<string, Subnet> _subnets = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SecurityGroup> _groups = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Instance> _instances = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, NetworkInterface> _enis = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, TrunkAssociation> _associations = new(StringComparer.Ordinal);
    private readonly Dictionary<string, InterfacePermission> _permissions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, InstanceTypeLimits> _types = InstanceTypes.Defaults();

    public Ec2State(SandboxSeed seed)
    {
        AccountId = seed.AccountId;
        Region = seed.Region;
        Vpc = new Vpc(seed.Vpc.Id, seed.Vpc.CidrBlock);
        AddressPool.ParseCidr(Vpc.CidrBlock);
        foreach (var (name, limits) in seed.InstanceTypes)
        {
            _types[name] = new InstanceTypeLimits(limits.MaxInterfaces, limits.MaxBranches);
        }

        foreach (var s in seed.Subnets)
        {
            Require(s.Id.StartsWith("subnet-", StringComparison.Ordinal), $"subnet id '{s.Id}' must start with subnet-");
            Require(_subnets.TryAdd(s.Id, new Subnet(s.Id, Vpc.Id, s.AvailabilityZone, new AddressPool(s.CidrBlock))),
                $"subnet '{s.Id}' is seeded twice");
        }

        foreach (var g in seed.SecurityGroups)
        {
            Require(g.Id.StartsWith("sg-", StringComparison.Ordinal), $"security group id '{g.Id}' must start with sg-");
            Require(_groups.TryAdd(g.Id, new SecurityGroup(g.Id, g.Name, g.Description, Vpc.Id) { Ingress = [.. g.Ingress.Select(IngressRuleOf)] }),
                $"security group '{g.Id}' is seeded twice");
        }

        foreach (var source in _groups.Values.SelectMany(g => g.Ingress).SelectMany(r => r.SourceGroupIds))
        {
            Require(_groups.ContainsKey(source), $"an ingress rule names security group '{source}', which is not seeded");
        }

        foreach (var i in seed.Instances)
        {
            AddInstance(i);
        }

        foreach (var e in seed.NetworkInterfaces)
        {
            AddStandaloneInterface(e);
        }

        foreach (var r in seed.Routes)
        {
            AddressPool.ParseCidr(r.DestinationCidrBlock);
            Require(_instances.ContainsKey(r.InstanceId), $"route {r.DestinationCidrBlock}: instance '{r.InstanceId}' is not seeded");
            Routes.Add(new InstanceRoute(r.DestinationCidrBlock, r.InstanceId));
        }

        ImdsInstanceId = seed.ImdsInstanceId ?? seed.Instances.FirstOrDefault()?.Id;
        Require(ImdsInstanceId is null || _instances.ContainsKey(ImdsInstanceId),
            $"imdsInstanceId '{ImdsInstanceId}' is not a seeded instance");
    }

    public Lock Gate { get; } = new();
    public string AccountId { get; }
    public string Region { get; }
    public Vpc Vpc { get; }
    public string? ImdsInstanceId { get; set; }

    public IEnumerable<Subnet> Subnets => _subnets.Values;
    public IEnumerable<SecurityGroup> SecurityGroups => _groups.Values;
    public IEnumerable<Instance> Instances => _instances.Values;
    public IEnumerable<NetworkInterface> NetworkInterfaces => _enis.Values;
    public IEnumerable<TrunkAssociation> Associations => _associations.Values;
    public List<InstanceRoute> Routes { get; } = [];

    /// <summary>Adds a running instance with its primary ENI at device index 0 (seeding and the admin endpoint).</summary>
    public Instance AddInstance(InstanceSeed seed)
    {
        Require(seed.Id.StartsWith("i-", StringComparison.Ordinal), $"instance id '{seed.Id}' must start with i-");
        Require(!_instances.ContainsKey(seed.Id), $"instance '{seed.Id}' already exists");
        Require(_types.ContainsKey(seed.InstanceType), $"instance type '{seed.InstanceType}' is unknown (add it under instanceTypes)");
        var subnet = _subnets.GetValueOrDefault(seed.SubnetId) ?? throw new ArgumentException($"instance '{seed.Id}': subnet '{seed.SubnetId}' is not seeded");
        foreach (var g in seed.SecurityGroupIds)
        {
            Require(_groups.ContainsKey(g), $"instance '{seed.Id}': security group '{g}' is not seeded");
        }

        try
        {
            ValidateTags([.. seed.Tags]);
        }
        catch (Ec2Exception e)
        {
            throw new ArgumentException($"instance '{seed.Id}': {e.Message}", e);
        }

        // Every check before the address is claimed: a refused instance leaves the subnet's pool as it was.
        var eniId = seed.PrimaryEniId ?? Ec2Ids.New("eni");
        Require(!_enis.ContainsKey(eniId), $"network interface '{eniId}' already exists");
        var ip = seed.PrivateIp is null ? null : IPAddress.Parse(seed.PrivateIp);
        Require(ip is null || subnet.Pool.TryClaim(ip), $"instance '{seed.Id}': {seed.PrivateIp} is not a free address of {subnet.CidrBlock}");
        ip ??= subnet.Pool.Allocate() ?? throw new ArgumentException($"subnet '{subnet.Id}' is full");
        var eni = new NetworkInterface(eniId, subnet, seed.MacAddress ?? Ec2Ids.NewMac(), ip)
        {
            Description = "",
            GroupIds = [.. seed.SecurityGroupIds],
        };
        var instance = new Instance(seed.Id, seed.InstanceType, subnet.Id, subnet.AvailabilityZone) { PrimaryEniId = eni.Id };
        foreach (var (key, value) in seed.Tags)
        {
            instance.Tags[key] = value;
        }

        eni.Attachment = new Attachment(Ec2Ids.New("eni-attach"), instance.Id, 0, instance.LaunchTime) { DeleteOnTermination = true };
        _enis.Add(eni.Id, eni);
        _instances.Add(instance.Id, instance);
        return instance;
    }

    private static IngressRule IngressRuleOf(IngressRuleSeed r)
    {
        Require(r.Protocol is "tcp" or "udp" or "icmp" or "-1", $"ingress protocol '{r.Protocol}' must be tcp, udp, icmp or -1");
        var ported = r.Protocol is "tcp" or "udp";
        Require(ported == (r.FromPort is not null && r.ToPort is not null), $"ingress {r.Protocol}: ports are required for tcp/udp and only for them");
        Require(!ported || (r.FromPort is >= 0 and <= 65535 && r.ToPort >= r.FromPort && r.ToPort <= 65535), $"ingress ports {r.FromPort}-{r.ToPort} are not a port range");
        Require(r.Cidrs.Count + r.SourceGroupIds.Count > 0, "an ingress rule needs a CIDR or a source group");
        foreach (var cidr in r.Cidrs)
        {
            AddressPool.ParseCidr(cidr);
        }

        return new IngressRule(r.Protocol, r.FromPort, r.ToPort, [.. r.Cidrs], [.. r.SourceGroupIds]);
    }

    private void AddStandaloneInterface(NetworkInterfaceSeed seed)
    {
        Require(seed.Id.StartsWith("eni-", StringComparison.Ordinal) && !_enis.ContainsKey(seed.Id), $"network interface id '{seed.Id}' must start with eni- and be unique");
        var subnet = _subnets.GetValueOrDefault(seed.SubnetId) ?? throw new ArgumentException($"network interface '{seed.Id}': subnet '{seed.SubnetId}' is not seeded");
        Require(seed.SecurityGroupIds.All(_groups.ContainsKey), $"network interface '{seed.Id}': a security group is not seeded");
        var ip = seed.PrivateIp is null ? null : IPAddress.Parse(seed.PrivateIp);
        Require(ip is null || subnet.Pool.TryClaim(ip), $"network interface '{seed.Id}': {seed.PrivateIp} is not a free address of {subnet.CidrBlock}");
        ip ??= subnet.Pool.Allocate() ?? throw new ArgumentException($"subnet '{subnet.Id}' is full");
        var eni = new NetworkInterface(seed.Id, subnet, Ec2Ids.NewMac(), ip) { Description = seed.Description, GroupIds = [.. seed.SecurityGroupIds] };
        foreach (var (key, value) in seed.Tags)
        {
            eni.Tags[key] = value;
        }

        _enis.Add(eni.Id, eni);
    }

    public InstanceTypeLimits LimitsOf(Instance instance) => _types[instance.InstanceType];

    public NetworkInterface Eni(string id) =>
        _enis.GetValueOrDefault(id) ?? throw (id.StartsWith("eni-", StringComparison.Ordinal)
            ? Ec2Exception.EniNotFound(id)
            : Ec2Exception.MalformedEniId(id));

    public Instance InstanceById(string id) => _instances.GetValueOrDefault(id) ?? throw Ec2Exception.InstanceNotFound(id);

    public Subnet SubnetById(string id) => _subnets.GetValueOrDefault(id) ?? throw Ec2Exception.SubnetNotFound(id);

    public SecurityGroup GroupById(string id) => _groups.GetValueOrDefault(id) ?? throw Ec2Exception.GroupNotFound(id);

    public TrunkAssociation AssociationById(string id) =>
        _associations.GetValueOrDefault(id) ?? throw Ec2Exception.AssociationNotFound(id);

    public TrunkAssociation? AssociationOfBranch(string eniId) =>
        _associations.Values.FirstOrDefault(a => a.BranchInterfaceId == eniId);

    public IEnumerable<NetworkInterface> AttachedTo(string instanceId) =>
        _enis.Values.Where(e => e.Attachment?.InstanceId == instanceId).OrderBy(e => e.Attachment!.DeviceIndex);

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new ArgumentException(message);
        }
    }
}
