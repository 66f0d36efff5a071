using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Security.Cryptography;
using BranchEni.Contracts;
using BranchEni.Policy;

namespace BranchEni.Cni.ModelDriver;

/// <summary>
/// One of the test's pods: what the agent's record says about it (VLAN, branch MAC, IP, subnet, metadata access) and
/// how its runtime calls the plugin (enforcing mode, CNI version). Every sandbox the runtime makes for it is a new
/// container id (<see cref="ContainerId"/>), as kubelet gives a pod a new sandbox after the old one is gone.
/// </summary>
internal sealed record PodSpec
{
    public required int Number { get; init; }

    public string Name => "p" + Number.ToString(CultureInfo.InvariantCulture);

    public string Uid => $"0f1e2d3c-aaaa-bbbb-cccc-{Number + 0x200:x12}";

    public required int VlanId { get; init; }

    public required PhysicalAddress BranchMac { get; init; }

    public required IPAddress PodIp { get; init; }

    public required IPNetwork Subnet { get; init; }

    /// <summary>The record's `metadataAccess`: "Allowed", "Denied", or null for a record without the field.</summary>
    public required string? MetadataAccessField { get; init; }

    public required EnforcingMode Mode { get; init; }

    public required string CniVersion { get; init; }

    /// <summary>CHECK arrived in 0.4.0: a pod spoken to in 0.3.1 is never checked.</summary>
    public bool Checkable => CniVersion != "0.3.1";

    /// <summary>The VPC router of the branch's subnet: its network address + 1 (DESIGN.md §2).</summary>
    public IPAddress Gateway
    {
        get
        {
            var bytes = Subnet.BaseAddress.GetAddressBytes();
            bytes[3]++;
            return new IPAddress(bytes);
        }
    }

    public MetadataAccess MetadataAccess => MetadataAccessField == "Denied" ? MetadataAccess.Denied : MetadataAccess.Allowed;

    /// <summary>The host veth the plugin names for this pod: prefix + 11 hex of sha1("default.&lt;name&gt;").</summary>
    public string HostVeth => BranchKernelLayout.HostVethName(BranchKernelLayout.DefaultVethPrefix,
        SHA1.HashData(BranchKernelLayout.HostVethHashInput(Namespace, Name)));

    public const string Namespace = "default";

    public string ContainerId(int generation) =>
        $"r2-{Name}-g{generation.ToString(CultureInfo.InvariantCulture)}";

    public PodRecord Record => new()
    {
        EniId = $"eni-0f2{Number:x4}",
        IfAddress = BranchEniAssignment.FormatMac(BranchMac),
        PrivateIp = PodIp.ToString(),
        Ipv6Addr = "",
        VlanId = VlanId,
        SubnetCidr = Subnet.ToString(),
        SubnetV6Cidr = "",
        AssociationId = $"trunk-assoc-{Number}",
        PodNamespace = Namespace,
        PodName = Name,
        PodUid = Uid,
        MetadataAccess = MetadataAccessField,
    };

    /// <summary>Everything this pod's sandbox <paramref name="containerId"/> must have on the node and in its namespace,
    /// with the MACs its ADD reported.</summary>
    public BranchPlumbing Model(string containerId, AddAnswer added) => new()
    {
        ContainerId = containerId,
        HostVeth = HostVeth,
        PodIfName = "eth0",
        VlanId = VlanId,
        BranchMac = BranchMac,
        PodIp = PodIp,
        VpcGateway = Gateway,
        Mtu = Node.Mtu,
        Mode = Mode,
        MetadataAccess = MetadataAccess,
        Trunk = Node.TrunkName,
        HostVethMac = added.HostVethMac,
        PodMac = added.PodMac,
        ExpectedBy = "the ADD result",
    };

    /// <summary>Twenty (or <paramref name="count"/>) pods from the seed: distinct VLANs over the whole valid range
    /// (the reserved 153..155 left out, as the parser refuses them), distinct IPs in two subnets, and mode, metadata
    /// access and CNI version drawn per pod.</summary>
    public static IReadOnlyList<PodSpec> Draw(Random random, int count)
    {
        var vlans = new HashSet<int>();
        var ips = new HashSet<IPAddress>();
        var subnets = new[] { IPNetwork.Parse("10.77.0.0/16"), IPNetwork.Parse("10.78.16.0/20") };
        string?[] accesses = ["Allowed", "Denied", null];
        string[] versions = ["0.3.1", "0.4.0", "1.0.0", "1.1.0"];
        var pods = new List<PodSpec>();
        for (var n = 1; n <= count; n++)
        {
            int vlan;
            do
            {
                // The range's ends now and then: VLAN 1 (table 101) and 4094 (table 4194).
                vlan = random.Next(10) switch { 0 => 1, 1 => 4094, _ => random.Next(1, 4095) };
            }
            while (vlan is >= BranchEniParser.ReservedTableVlanFirst and <= BranchEniParser.ReservedTableVlanLast || !vlans.Add(vlan));

            var subnet = subnets[random.Next(subnets.Length)];
            IPAddress ip;
            do
            {
                var bytes = subnet.BaseAddress.GetAddressBytes();
                var offset = random.Next(2, (1 << (32 - subnet.PrefixLength)) - 1);
                bytes[2] = (byte)(bytes[2] + (offset >> 8));
                bytes[3] = (byte)offset;
                ip = new IPAddress(bytes);
            }
            while (!ips.Add(ip));

            var mac = new byte[6];
            random.NextBytes(mac);
            mac[0] = (byte)((mac[0] & 0xfc) | 0x02);
            pods.Add(new PodSpec
            {
                Number = n,
                VlanId = vlan,
                BranchMac = new PhysicalAddress(mac),
                PodIp = ip,
                Subnet = subnet,
                MetadataAccessField = accesses[random.Next(accesses.Length)],
                Mode = random.Next(2) == 0 ? EnforcingMode.Strict : EnforcingMode.Standard,
                CniVersion = versions[random.Next(versions.Length)],
            });
        }

        return pods;
    }

    public string Describe() =>
        $"{Name} vlan {VlanId} ip {PodIp} mac {BranchEniAssignment.FormatMac(BranchMac)} {Mode.ConfigName()} " +
        $"metadata {MetadataAccessField ?? "(absent)"} cni {CniVersion}";
}

/// <summary>What a successful ADD answered that the model needs: the two veth ends' MACs, and the whole result as the
/// runtime keeps it for CHECK and DEL (prevResult).</summary>
internal sealed record AddAnswer(string ResultJson, PhysicalAddress? HostVethMac, PhysicalAddress? PodMac);
