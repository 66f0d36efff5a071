using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Text;
using BranchEni.Netlink;
using BranchEni.Policy;

namespace BranchEni.Contracts;

/// <summary>
/// The names, numbers and rule shapes of one branch pod's kernel layout (DESIGN.md §2, "Kernel layout per branch pod"):
/// one definition for the CNI, which builds the layout, and the agent's debug commands, which check and clean it.
/// </summary>
internal static class BranchKernelLayout
{
    public const string VlanLinkPrefix = "vlan.eth.";
    public const int TableBase = 100;
    public const uint StrictRulePriority = 10;
    public const uint StandardToPodPriority = 512;
    public const uint StandardFromPodPriority = 1536;

    /// <summary>The CNI config's `vethPrefix` default.</summary>
    public const string DefaultVethPrefix = "vlan";

    /// <summary>Length of the hash part of a host veth name (hex digits of the SHA-1).</summary>
    public const int VethHashLength = 11;

    /// <summary>The node-wide lock file under stateDir that every change of branch plumbing holds (flock).</summary>
    public const string NodeLockFileName = "cni.lock";

    /// <summary>The pod's next hop: link-local, answered by a permanent neighbour entry (no ARP).</summary>
    public static readonly IPAddress PodGateway = IPAddress.Parse("169.254.1.1");

    /// <summary>The instance metadata service (IMDS) as the VPC answers it.</summary>
    public static readonly IPAddress MetadataService = IPAddress.Parse("169.254.169.254");

    // IPv6: once branch pods get IPv6 addresses, fd00:ec2::254/128 is denied the same way in the inet6 table 100+N.

    /// <summary>The lowest and highest table a branch pod can use (VLAN 1..4094).</summary>
    public static uint FirstTable => TableOf(BranchEniParser.MinVlanId);

    public static uint LastTable => TableOf(BranchEniParser.MaxVlanId);

    public static string VlanLinkName(int vlanId) => VlanLinkPrefix + vlanId.ToString(CultureInfo.InvariantCulture);

    public static uint TableOf(int vlanId) => (uint)(TableBase + vlanId);

    /// <summary>The VLAN id whose table this is; null for any table outside 101..4194 and for the kernel's own
    /// default, main and local tables (253..255, which VLANs 153..155 would collide with).</summary>
    public static int? VlanIdOfTable(uint? table) =>
        table is { } t && t >= FirstTable && t <= LastTable && t is not (RouteTables.Default or RouteTables.Main or RouteTables.Local)
            ? (int)t - TableBase
            : null;

    /// <summary>The VLAN id of a name "vlan.eth.N" with N in 1..4094; null for any other name.</summary>
    public static int? VlanIdOf(string? linkName) =>
        linkName is not null && linkName.StartsWith(VlanLinkPrefix, StringComparison.Ordinal)
        && int.TryParse(linkName.AsSpan(VlanLinkPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var id)
        && id is >= BranchEniParser.MinVlanId and <= BranchEniParser.MaxVlanId
        && VlanLinkName(id) == linkName
            ? id
            : null;

    /// <summary>What the host veth name hashes: UTF-8 of "&lt;namespace&gt;.&lt;pod&gt;".</summary>
    public static byte[] HostVethHashInput(string podNamespace, string podName) =>
        Encoding.UTF8.GetBytes($"{podNamespace}.{podName}");

    /// <summary>`&lt;prefix&gt;&lt;first 11 hex of sha1("&lt;ns&gt;.&lt;pod&gt;")&gt;`, the name the AWS VPC CNI gives; the caller
    /// supplies the SHA-1 digest of <see cref="HostVethHashInput"/> (the CNI hashes without OpenSSL, the agent with it).</summary>
    public static string HostVethName(string prefix, ReadOnlySpan<byte> sha1Digest) =>
        prefix + Convert.ToHexStringLower(sha1Digest)[..VethHashLength];

    /// <summary>In the pod: `169.254.1.1/32 dev eth0 scope link` and `default via 169.254.1.1 dev eth0` (main table).</summary>
    public static Route[] PodRoutes(int podLinkIndex) =>
    [
        new() { Destination = new IPNetwork(PodGateway, 32), OutputIndex = podLinkIndex, Scope = Scope.Link },
        new() { Destination = new IPNetwork(IPAddress.Any, 0), Gateway = PodGateway, OutputIndex = podLinkIndex },
    ];

    /// <summary>In the pod: 169.254.1.1 answered by the host veth's MAC without ARP.</summary>
    public static Neighbour PodNeighbour(int podLinkIndex, PhysicalAddress? hostVethMac) => new()
    {
        LinkIndex = podLinkIndex, Address = PodGateway, Mac = hostVethMac, State = NeighbourState.Permanent,
    };

    /// <summary>Table 100+N: `&lt;VPC gateway&gt;/32 dev vlan.eth.N scope link` and `default via &lt;VPC gateway&gt; dev vlan.eth.N`.</summary>
    public static Route[] VlanTableRoutes(IPAddress vpcGateway, int vlanLinkIndex, uint table) =>
    [
        new() { Destination = new IPNetwork(vpcGateway, 32), OutputIndex = vlanLinkIndex, Scope = Scope.Link, Table = table },
        new() { Destination = new IPNetwork(IPAddress.Any, 0), Gateway = vpcGateway, OutputIndex = vlanLinkIndex, Table = table },
    ];

    /// <summary>`&lt;pod IP&gt;/32 dev &lt;host veth&gt; scope link`, in table 100+N in strict mode (only the pod's table knows
    /// the pod) and in main in standard mode (the node reaches the pod directly): <paramref name="table"/> says which.</summary>
    public static Route PodHostRoute(IPAddress podIp, int hostVethIndex, uint table) => new()
    {
        Destination = new IPNetwork(podIp, 32), OutputIndex = hostVethIndex, Scope = Scope.Link, Table = table,
    };

    /// <summary>
    /// `unreachable 169.254.169.254/32 table 100+N`: a pod denied the metadata service. Both modes steer every packet
    /// of the pod through table 100+N before main (strict: prio 10 iif the host veth, ahead of the local table moved to
    /// 20; standard: prio 1536 from the pod's IP, main is 32766), so no extra rule is needed; the pod gets ICMP host
    /// unreachable ("No route to host"). The route has no device: it does not go with the VLAN link, so DEL, GC and
    /// `cleanup` clear what is left in the table.
    /// </summary>
    public static Route MetadataDenyRoute(uint table) => new()
    {
        Destination = new IPNetwork(MetadataService, 32), Type = RouteType.Unreachable, Table = table,
    };

    /// <summary>Whether a route read from the kernel is the deny route of its table.</summary>
    public static bool IsMetadataDenyRoute(Route route) =>
        route is { Type: RouteType.Unreachable, Destination: { PrefixLength: 32 } destination } && destination.BaseAddress.Equals(MetadataService);

    /// <summary>What the kernel shows for a table: Denied when its deny route is there, else Allowed.</summary>
    public static MetadataAccess MetadataAccessOf(IEnumerable<Route> tableRoutes) =>
        tableRoutes.Any(IsMetadataDenyRoute) ? MetadataAccess.Denied : MetadataAccess.Allowed;

    /// <summary>Whether a rule read from the kernel is <paramref name="wanted"/> (one of <see cref="StrictRules"/> or
    /// <see cref="StandardRules"/>): same priority, selectors and table, and nothing else selecting (oif, fwmark).</summary>
    public static bool IsRule(Rule actual, Rule wanted) =>
        actual.Priority == wanted.Priority && actual.IifName == wanted.IifName && actual.From == wanted.From && actual.To == wanted.To
        && actual.Table == wanted.Table && actual.Action == RuleAction.ToTable && actual.OifName is null && actual.FwMark is null;

    /// <summary>strict, prio 10: everything from the VLAN or from the pod's veth uses the pod's table.</summary>
    public static Rule[] StrictRules(string vlanLink, string hostVeth, uint table) =>
    [
        new() { Priority = StrictRulePriority, IifName = vlanLink, Table = table },
        new() { Priority = StrictRulePriority, IifName = hostVeth, Table = table },
    ];

    /// <summary>standard, prio 512: to the pod via main; prio 1536: from the pod via its table.</summary>
    public static Rule[] StandardRules(IPAddress podIp, uint table) =>
    [
        new() { Priority = StandardToPodPriority, To = new IPNetwork(podIp, 32), Table = RouteTables.Main },
        new() { Priority = StandardFromPodPriority, From = new IPNetwork(podIp, 32), Table = table },
    ];
}
