using System.Globalization;
using System.Net;
using BranchEni.Sandbox.Admin;

namespace BranchEni.Sandbox.Fabric;

/// <summary>
/// An ENI of a node instance, seen from inside the node as a NIC (device index 0 is the primary). <paramref name="Netns"/>
/// is the node's namespace under /run/netns, or null for the namespace the fabric runs in (the node it was started for).
/// </summary>
internal sealed record NodeNic(string EniId, string Mac, int DeviceIndex, bool IsTrunk, IPAddress Ip, int SubnetPrefix, IPAddress Gateway,
    string? Netns = null)
{
    /// <summary>Nitro names: device index 0 is ens5, 1 is ens6, ...</summary>
    public string NodeName => "ens" + (5 + DeviceIndex).ToString(CultureInfo.InvariantCulture);

    public string RouterName => "n-" + FabricPlan.Short(EniId);
}

/// <summary>A stand-alone ENI (an "RDS" database, say) given a host of its own in a network namespace.</summary>
internal sealed record HostNic(string EniId, string Mac, string Netns, IPAddress Ip, int SubnetPrefix, IPAddress Gateway)
{
    public string RouterName => "h-" + FabricPlan.Short(EniId);
}

/// <summary>A branch association: a VLAN sub-interface of the trunk's far end, answering as the subnet gateway.</summary>
internal sealed record BranchVlan(string BranchEniId, string TrunkRouterName, int VlanId, IPAddress Ip, string Mac, IPAddress Gateway)
{
    public string RouterName => "v" + VlanId.ToString(CultureInfo.InvariantCulture) + "-" + FabricPlan.Short(BranchEniId);
}

/// <summary>A route-table entry sending a prefix to an instance's primary address.</summary>
internal sealed record InstanceRouteEntry(IPNetwork Destination, IPAddress NextHop);

/// <summary>
/// What the VPC's plumbing should look like for one EC2 snapshot: pure data, so the plan is testable without a
/// kernel. Only node instances' ENIs (the fabric's own node, and each running instance tagged <see cref="NetnsTag"/>
/// in that namespace), their trunks' associations and stand-alone ENIs tagged <see cref="NetnsTag"/> are plumbed;
/// everything else exists in EC2 only.
/// </summary>
internal sealed record FabricPlan(
    IReadOnlyList<NodeNic> NodeNics,
    IReadOnlyList<HostNic> Hosts,
    IReadOnlyList<BranchVlan> Branches,
    IReadOnlyList<InstanceRouteEntry> Routes,
    string Ruleset)
{
    /// <summary>
    /// The tag that puts a stand-alone ENI's host, or an instance's NICs, into a network namespace (by name under
    /// /run/netns).
    /// </summary>
    public const string NetnsTag = "fabric:netns";

    /// <summary>Eight hex digits of an id: router-side names must fit IFNAMSIZ (15).</summary>
    public static string Short(string eniId) => eniId[(eniId.IndexOf('-', StringComparison.Ordinal) + 1)..][..8];

    public static FabricPlan Of(Ec2Snapshot snapshot, string nodeInstanceId)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var nodes = NodeNamespaces(snapshot, nodeInstanceId);
        var nics = snapshot.NetworkInterfaces
            .Where(e => e.InstanceId is { } i && nodes.ContainsKey(i) && e.DeviceIndex is not null && e.Status == "in-use")
            .OrderBy(e => e.InstanceId == nodeInstanceId ? 0 : 1).ThenBy(e => e.InstanceId, StringComparer.Ordinal).ThenBy(e => e.DeviceIndex)
            .Select(e => new NodeNic(e.Id, e.MacAddress, e.DeviceIndex!.Value, e.InterfaceType == "trunk", IPAddress.Parse(e.PrivateIp),
                Prefix(snapshot, e), Gateway(snapshot, e), nodes[e.InstanceId!]))
            .ToList();
        var hosts = snapshot.NetworkInterfaces
            .Where(e => e.InstanceId is null && e.InterfaceType == "interface" && e.Tags.ContainsKey(NetnsTag))
            .Select(e => new HostNic(e.Id, e.MacAddress, e.Tags[NetnsTag], IPAddress.Parse(e.PrivateIp), Prefix(snapshot, e), Gateway(snapshot, e)))
            .ToList();
        var byId = snapshot.NetworkInterfaces.ToDictionary(e => e.Id, StringComparer.Ordinal);
        var branches = new List<BranchVlan>();
        foreach (var a in snapshot.Associations)
        {
            var trunk = nics.FirstOrDefault(n => n.IsTrunk && n.EniId == a.TrunkInterfaceId);
            if (trunk is not null && byId.TryGetValue(a.BranchInterfaceId, out var branch))
            {
                branches.Add(new BranchVlan(branch.Id, trunk.RouterName, a.VlanId, IPAddress.Parse(branch.PrivateIp), branch.MacAddress, Gateway(snapshot, branch)));
            }
        }

        var primaryIps = snapshot.NetworkInterfaces.Where(e => e.DeviceIndex == 0 && e.InstanceId is not null)
            .ToDictionary(e => e.InstanceId!, e => IPAddress.Parse(e.PrivateIp), StringComparer.Ordinal);
        var routes = snapshot.Routes.Where(r => primaryIps.ContainsKey(r.InstanceId))
            .Select(r => new InstanceRouteEntry(IPNetwork.Parse(r.DestinationCidrBlock), primaryIps[r.InstanceId]))
            .ToList();
        return new FabricPlan(nics, hosts, branches, routes, SecurityGroupRuleset.Render(snapshot));
    }

    /// <summary>Node instance -> its namespace: the fabric's own node (null: where the fabric runs), then tagged ones.</summary>
    private static Dictionary<string, string?> NodeNamespaces(Ec2Snapshot snapshot, string nodeInstanceId)
    {
        var nodes = new Dictionary<string, string?>(StringComparer.Ordinal) { [nodeInstanceId] = null };
        foreach (var i in snapshot.Instances.Where(i => i.State == "running" && i.Id != nodeInstanceId))
        {
            if (i.Tags.TryGetValue(NetnsTag, out var netns) && netns.Length > 0 && !netns.Contains('/', StringComparison.Ordinal))
            {
                nodes[i.Id] = netns;
            }
        }

        return nodes;
    }

    private static int Prefix(Ec2Snapshot snapshot, EniSnapshot eni) => IPNetwork.Parse(snapshot.SubnetCidrBlocks[eni.SubnetId]).PrefixLength;

    /// <summary>EC2's rule: the subnet's network address + 1 answers as the router.</summary>
    private static IPAddress Gateway(Ec2Snapshot snapshot, EniSnapshot eni)
    {
        var network = IPNetwork.Parse(snapshot.SubnetCidrBlocks[eni.SubnetId]).BaseAddress.GetAddressBytes();
        var value = ((uint)network[0] << 24 | (uint)network[1] << 16 | (uint)network[2] << 8 | network[3]) + 1;
        return new IPAddress([(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value]);
    }
}
