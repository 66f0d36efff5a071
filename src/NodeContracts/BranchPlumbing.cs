using System.Net;
using System.Net.NetworkInformation;
using BranchEni.Netlink;
using BranchEni.Policy;

namespace BranchEni.Contracts;

/// <summary>
/// Every kernel object one branch pod has (DESIGN.md §2, "Kernel layout per branch pod"; N = the VLAN id): the desired
/// state that ADD applies, and that CHECK and the agent's `verify` compare the kernel with
/// (<see cref="BranchPlumbingComparison"/>).
/// <list type="bullet">
/// <item>host: the host veth `&lt;vethPrefix&gt;&lt;11 hex of sha1&gt;`, alias = container id, up, MTU from config;</item>
/// <item>pod: its peer CNI_IFNAME, up, `&lt;pod IP&gt;/32`; routes `169.254.1.1/32 dev eth0 scope link` and
/// `default via 169.254.1.1 dev eth0`; permanent neighbour 169.254.1.1 -> the host veth's MAC (no ARP);</item>
/// <item>host: `vlan.eth.N` on the trunk, 802.1Q id N, MAC = the branch ENI's, alias = container id, up;</item>
/// <item>table 100+N: `&lt;VPC gateway&gt;/32 dev vlan.eth.N scope link`, `default via &lt;VPC gateway&gt; dev vlan.eth.N`,
/// and `unreachable 169.254.169.254/32` when the pod's metadata access is Denied;</item>
/// <item>`&lt;pod IP&gt;/32 dev &lt;host veth&gt; scope link`: in table 100+N in strict mode, in main in standard mode;</item>
/// <item>rules: strict, prio 10 `iif vlan.eth.N` and `iif &lt;host veth&gt;` lookup 100+N; standard, prio 512
/// `to &lt;pod IP&gt; lookup main` and prio 1536 `from &lt;pod IP&gt; lookup 100+N`.</item>
/// </list>
/// Names, numbers and how to recognise our objects on a node stay in <see cref="BranchKernelLayout"/>: DEL, GC and
/// `cleanup` need those for objects whose owner is gone and of whom no model can be made (<see cref="BranchLeftovers"/>).
/// A field that is null is not known to the caller and is not compared: CHECK learns the VPC gateway from the table's
/// default route (prevResult does not carry it); `verify` does not know the container id (the record does not say it)
/// and then asks only that both links carry the same non-empty owner.
/// </summary>
internal sealed record BranchPlumbing
{
    /// <summary>The owner alias both host links carry; null: any one owner.</summary>
    public string? ContainerId { get; init; }

    public required string HostVeth { get; init; }

    /// <summary>CNI_IFNAME; null when the caller finds the pod's interface otherwise (`verify` searches namespaces).</summary>
    public string? PodIfName { get; init; }

    public required int VlanId { get; init; }

    /// <summary>The branch ENI's MAC, which the VLAN link carries.</summary>
    public PhysicalAddress? BranchMac { get; init; }

    public required IPAddress PodIp { get; init; }

    /// <summary>The VPC router of the branch's subnet; null: whatever the table's default route names.</summary>
    public IPAddress? VpcGateway { get; init; }

    /// <summary>Both veth ends' MTU (config); null: not compared beyond the two ends agreeing.</summary>
    public int? Mtu { get; init; }

    public required EnforcingMode Mode { get; init; }

    /// <summary>Denied adds <see cref="MetadataDenyRoute"/> to the pod's table; Allowed must not have it.</summary>
    public MetadataAccess MetadataAccess { get; init; } = MetadataAccess.Allowed;

    /// <summary>The trunk's link name, the VLAN link's parent; null: not compared.</summary>
    public string? Trunk { get; init; }

    /// <summary>The MACs an earlier ADD reported (prevResult); null: not compared.</summary>
    public PhysicalAddress? HostVethMac { get; init; }

    public PhysicalAddress? PodMac { get; init; }

    /// <summary>Who states the expected MACs, for messages: "prevResult" (CHECK) or "the record" (`verify`).</summary>
    public string ExpectedBy { get; init; } = "the record";

    public string VlanLink => BranchKernelLayout.VlanLinkName(VlanId);

    public uint Table => BranchKernelLayout.TableOf(VlanId);

    /// <summary>Where the pod's /32 route lives: its own table in strict mode (only the pod's table knows the pod),
    /// main in standard mode (the node reaches the pod directly).</summary>
    public uint PodRouteTable => Mode == EnforcingMode.Strict ? Table : RouteTables.Main;

    /// <summary>The host veth: kind veth, the owner alias, the configured MTU.</summary>
    public DesiredLink HostVethLink => new(PlumbingSide.Host, HostVeth, "veth", ContainerId, HostVethMac, Mtu, null, null);

    /// <summary>The pod's end of the veth pair, named CNI_IFNAME ("?" when unknown).</summary>
    public DesiredLink PodLink => new(PlumbingSide.Pod, PodIfName ?? "?", "veth", null, PodMac, Mtu, null, null);

    /// <summary>`vlan.eth.N`: 802.1Q id N on the trunk, the branch's MAC, the owner alias; MTU is the trunk's.</summary>
    public DesiredLink VlanLinkObject => new(PlumbingSide.Host, VlanLink, Dot1QVlanLink.Kind, ContainerId, BranchMac, null, VlanId, Trunk);

    public IReadOnlyList<DesiredLink> Links => [HostVethLink, PodLink, VlanLinkObject];

    /// <summary>In the pod: `&lt;pod IP&gt;/32` on CNI_IFNAME.</summary>
    public IPNetwork PodAddress => new(PodIp, 32);

    /// <summary>In the pod (main table): `169.254.1.1/32 dev eth0 scope link`, `default via 169.254.1.1 dev eth0`.</summary>
    public IReadOnlyList<DesiredRoute> PodRoutes =>
    [
        new(PlumbingSide.Pod, new Route { Destination = new IPNetwork(BranchKernelLayout.PodGateway, 32), Scope = Scope.Link }, PodIfName),
        new(PlumbingSide.Pod, new Route { Destination = new IPNetwork(IPAddress.Any, 0), Gateway = BranchKernelLayout.PodGateway }, PodIfName),
    ];

    /// <summary>In the pod: 169.254.1.1 answered by the host veth's MAC, permanent, so the pod never ARPs.</summary>
    public Neighbour PodNeighbour(int podLinkIndex, PhysicalAddress? hostVethMac) => new()
    {
        LinkIndex = podLinkIndex, Address = BranchKernelLayout.PodGateway, Mac = hostVethMac, State = NeighbourState.Permanent,
    };

    /// <summary>Table 100+N: `&lt;gateway&gt;/32 dev vlan.eth.N scope link` and `default via &lt;gateway&gt; dev vlan.eth.N`.
    /// <paramref name="gateway"/> is <see cref="VpcGateway"/> when known (CHECK passes the one it found).</summary>
    public IReadOnlyList<DesiredRoute> VlanTableRoutes(IPAddress gateway) =>
    [
        new(PlumbingSide.Host, new Route { Destination = new IPNetwork(gateway, 32), Scope = Scope.Link, Table = Table }, VlanLink),
        new(PlumbingSide.Host, new Route { Destination = new IPNetwork(IPAddress.Any, 0), Gateway = gateway, Table = Table }, VlanLink),
    ];

    /// <summary>`&lt;pod IP&gt;/32 dev &lt;host veth&gt; scope link` in <see cref="PodRouteTable"/>.</summary>
    public DesiredRoute PodHostRoute =>
        new(PlumbingSide.Host, new Route { Destination = new IPNetwork(PodIp, 32), Scope = Scope.Link, Table = PodRouteTable }, HostVeth);

    /// <summary>`unreachable 169.254.169.254/32 table 100+N` (<see cref="DenyRouteOf"/>).</summary>
    public Route MetadataDenyRoute => DenyRouteOf(Table);

    /// <summary>Every host route the pod has, in the order ADD makes them (gateway unknown: the table's two are left out).</summary>
    public IReadOnlyList<DesiredRoute> HostRoutes => [.. VpcGateway is { } gateway ? VlanTableRoutes(gateway) : [], .. RoutesBeyondTheGateway];

    /// <summary>The deny route when Denied, then the pod's /32 route: the host routes that need no gateway.</summary>
    private IEnumerable<DesiredRoute> RoutesBeyondTheGateway
    {
        get
        {
            if (MetadataAccess == MetadataAccess.Denied)
            {
                yield return new DesiredRoute(PlumbingSide.Host, MetadataDenyRoute, null);
            }

            yield return PodHostRoute;
        }
    }

    /// <summary>The policy rules of the pod's mode.</summary>
    public IReadOnlyList<Rule> Rules => RulesOf(Mode);

    /// <summary>The rules the pod would have in the other mode: on a node of this mode, they must not be there.</summary>
    public IReadOnlyList<Rule> OtherModeRules => RulesOf(Mode == EnforcingMode.Strict ? EnforcingMode.Standard : EnforcingMode.Strict);

    /// <summary>
    /// `unreachable 169.254.169.254/32 table 100+N`: a pod denied the metadata service. Both modes steer every packet
    /// of the pod through table 100+N before main (strict: prio 10 iif the host veth, ahead of the local table moved to
    /// 20; standard: prio 1536 from the pod's IP, main is 32766), so no extra rule is needed; the pod gets ICMP host
    /// unreachable ("No route to host"). The route has no device: it does not go with the VLAN link, so DEL, GC and
    /// `cleanup` clear what is left in the table.
    /// </summary>
    public static Route DenyRouteOf(uint table) => new()
    {
        Destination = new IPNetwork(BranchKernelLayout.MetadataService, 32), Type = RouteType.Unreachable, Table = table,
    };

    /// <summary>The whole model as one line per object, host side first, in the words of `ip`: what a reader (and the
    /// model's tests) see the pod has. Unknown values print as "?".</summary>
    public IEnumerable<string> Describe()
    {
        yield return HostVethLink.Describe();
        yield return VlanLinkObject.Describe();
        foreach (var route in VlanTableRoutes(VpcGateway ?? IPAddress.None))
        {
            yield return route.Describe(VpcGateway is null ? "?" : null);
        }

        foreach (var route in RoutesBeyondTheGateway)
        {
            yield return route.Describe(null);
        }

        foreach (var rule in Rules)
        {
            yield return PlumbingText.Rule(rule);
        }

        yield return PodLink.Describe();
        yield return $"pod address {PodAddress} dev {PodLink.Name}";
        foreach (var route in PodRoutes)
        {
            yield return route.Describe(null);
        }

        yield return $"pod neigh {BranchKernelLayout.PodGateway} dev {PodLink.Name} lladdr <{HostVeth}'s MAC> permanent";
    }

    private Rule[] RulesOf(EnforcingMode mode) => mode == EnforcingMode.Strict
        ?
        [
            // Everything from the VLAN or from the pod's veth uses the pod's table.
            new() { Priority = BranchKernelLayout.StrictRulePriority, IifName = VlanLink, Table = Table },
            new() { Priority = BranchKernelLayout.StrictRulePriority, IifName = HostVeth, Table = Table },
        ]
        :
        [
            // To the pod via main; from the pod via its table.
            new() { Priority = BranchKernelLayout.StandardToPodPriority, To = new IPNetwork(PodIp, 32), Table = RouteTables.Main },
            new() { Priority = BranchKernelLayout.StandardFromPodPriority, From = new IPNetwork(PodIp, 32), Table = Table },
        ];
}

/// <summary>Which namespace an object lives in: the node's or the pod's.</summary>
internal enum PlumbingSide
{
    Host,
    Pod,
}

/// <summary>A link of the model. Null members are not part of the desired state (see <see cref="BranchPlumbing"/>).</summary>
internal sealed record DesiredLink(PlumbingSide Side, string Name, string Kind, string? Alias, PhysicalAddress? Mac, int? Mtu, int? VlanId, string? Parent)
{
    public string Describe()
    {
        var text = $"{(Side == PlumbingSide.Host ? "host" : "pod")} link {Name} type {Kind}";
        text += VlanId is { } id ? $" id {id}" : "";
        text += Parent is { } parent ? $" link {parent}" : "";
        text += Mac is { } mac ? $" address {BranchEniAssignment.FormatMac(mac)}" : "";
        text += Mtu is { } mtu ? $" mtu {mtu}" : "";
        text += Side == PlumbingSide.Host ? $" alias {Alias ?? "?"}" : "";
        return text + " up";
    }
}

/// <summary>A route of the model; its device is named (<see cref="Device"/>) because its index exists only once the link
/// does. <see cref="Bind"/> makes the route to install.</summary>
internal sealed record DesiredRoute(PlumbingSide Side, Route Shape, string? Device)
{
    public Route Bind(int? deviceIndex) => Shape with { OutputIndex = deviceIndex };

    /// <summary>Whether a route read from the kernel is this one: same destination, table, type and gateway, and out of
    /// the device whose index is <paramref name="deviceIndex"/>.</summary>
    public bool IsMatchedBy(Route actual, int? deviceIndex)
    {
        ArgumentNullException.ThrowIfNull(actual);
        return actual.Destination == Shape.Destination && (actual.Table ?? RouteTables.Main) == (Shape.Table ?? RouteTables.Main)
            && actual.Type == Shape.Type && Equals(actual.Gateway, Shape.Gateway)
            && (Device is null || (deviceIndex is not null && actual.OutputIndex == deviceIndex));
    }

    /// <summary>In the words of `ip route`; <paramref name="gatewayText"/> replaces the gateway when it is not known.</summary>
    public string Describe(string? gatewayText)
    {
        var destination = Shape.Destination.PrefixLength == 0 ? "default" : Shape.Destination.ToString();
        if (gatewayText is not null && Shape.Destination.PrefixLength != 0)
        {
            destination = gatewayText + "/32";
        }

        var text = $"{(Side == PlumbingSide.Host ? "host" : "pod")} route {(Shape.Type == RouteType.Unreachable ? "unreachable " : "")}{destination}";
        text += Shape.Gateway is { } gateway ? $" via {gatewayText ?? gateway.ToString()}" : "";
        text += Device is { } device ? $" dev {device}" : "";
        text += Shape.Scope == Scope.Link ? " scope link" : "";
        return text + $" table {PlumbingText.Table(Shape.Table ?? RouteTables.Main)}";
    }
}
