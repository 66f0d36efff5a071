using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Text.Json;
using BranchEni.Netlink;

// Commands (each prints one JSON object on stdout):
//   refuse PARENT_INDEX            VLAN ids 0 and 4095 through AddVlan; run under strace to prove nothing was sent
//   create PARENT_NAME NETNS_PATH  the branch-pod VLAN steps: create into the namespace, alias, rename, up, routes
//   delete NETNS_PATH              delete inside the namespace, then DeleteLinkIfExists reports absence
using var output = Console.OpenStandardOutput();
using var json = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true });
json.WriteStartObject();
switch (args)
{
    case ["refuse", var parent]:
        Refuse(json, int.Parse(parent, CultureInfo.InvariantCulture));
        break;
    case ["create", var parent, var nsPath]:
        Create(json, parent, nsPath);
        break;
    case ["delete", var nsPath]:
        Delete(json, nsPath);
        break;
    default:
        Console.Error.WriteLine("usage: refuse IDX | create PARENT NETNS | delete NETNS");
        return 2;
}

json.WriteEndObject();
json.Flush();
return 0;

static void Refuse(Utf8JsonWriter json, int parentIndex)
{
    using var nl = NetlinkHandle.Open();
    foreach (var id in new[] { 0, 4095 })
    {
        try
        {
            nl.AddVlan(new VlanSpec { Name = $"bad{id}", ParentIndex = parentIndex, VlanId = id });
            json.WriteString($"vlan{id}", "accepted");
        }
        catch (ArgumentOutOfRangeException e)
        {
            json.WriteString($"vlan{id}", "refused: " + e.Message.Split('\n')[0]);
        }
    }

    // One real request afterwards, so the trace shows it does record what the library sends.
    json.WriteString("parent", nl.GetLink(parentIndex).Name);
}

static void Create(Utf8JsonWriter json, string parentName, string nsPath)
{
    using var host = NetlinkHandle.Open();
    using var ns = NetworkNamespace.Open(nsPath);
    var parent = host.GetLink(parentName);

    // Straight into the pod namespace under a temporary name, as the containernetworking vlan plugin does.
    host.AddVlan(new VlanSpec
    {
        Name = "vlan.tmp7", ParentIndex = parent.Index, VlanId = 7, Mac = PhysicalAddress.Parse("02-EE-16-BD-41-31"),
        Mtu = 1400, Namespace = ns,
    });
    json.WriteBoolean("hostSeesTemporary", host.TryGetLink("vlan.tmp7") is not null);

    using var inside = NetlinkHandle.Open(ns);
    var created = inside.GetLink("vlan.tmp7");
    inside.SetLinkAlias(created.Index, "owner:container-c0ffee");
    inside.SetLinkName(created.Index, "vlan.eth.7");
    inside.SetLinkUp(created.Index);
    ns.WriteSysctl("net/ipv4/conf/vlan.eth.7/rp_filter", "2");
    inside.AddAddress(new InterfaceAddress { LinkIndex = created.Index, Address = IPAddress.Parse("192.168.19.148"), PrefixLength = 32 });
    inside.AddRoute(new Route { Destination = IPNetwork.Parse("192.168.0.1/32"), OutputIndex = created.Index, Table = 107 });
    inside.AddRoute(new Route
    {
        Destination = IPNetwork.Parse("0.0.0.0/0"), Gateway = IPAddress.Parse("192.168.0.1"), OutputIndex = created.Index, Table = 107,
    });
    inside.AddRule(new Rule { Priority = 10, IifName = "vlan.eth.7", Table = 107 });
    WriteLink(json, "inside", inside.GetLink("vlan.eth.7"));
    json.WriteString("rpFilter", ns.ReadSysctl("net/ipv4/conf/vlan.eth.7/rp_filter"));
    json.WriteNumber("routesInTable107", inside.ListRoutes(System.Net.Sockets.AddressFamily.InterNetwork, 107).Count);

    // A second VLAN in the host namespace, listed through ListLinks.
    host.AddVlan(new VlanSpec { Name = "vlan.eth.8", ParentIndex = parent.Index, VlanId = 8 });
    WriteLink(json, "hostListed", host.ListLinks().Single(l => l.Name == "vlan.eth.8"));
    var duplicate = Record(() => host.AddVlan(new VlanSpec { Name = "vlan.eth.8", ParentIndex = parent.Index, VlanId = 9 }));
    json.WriteString("duplicate", duplicate);
}

static void Delete(Utf8JsonWriter json, string nsPath)
{
    using var inside = NetlinkHandle.Open(nsPath);
    inside.DeleteLink("vlan.eth.7");
    json.WriteBoolean("deleteAgain", inside.DeleteLinkIfExists("vlan.eth.7"));
    json.WriteString("getAfterDelete", Record(() => inside.GetLink("vlan.eth.7")));
    using var host = NetlinkHandle.Open();
    json.WriteBoolean("hostDelete", host.DeleteLinkIfExists("vlan.eth.8"));
}

static void WriteLink(Utf8JsonWriter json, string property, Link link)
{
    json.WriteStartObject(property);
    json.WriteNumber("index", link.Index);
    json.WriteString("name", link.Name);
    json.WriteString("kind", link.Kind);
    json.WriteNumber("vlanId", link.VlanId ?? -1);
    json.WriteNumber("parentIndex", link.ParentIndex ?? -1);
    json.WriteString("mac", link.Mac?.ToString());
    json.WriteNumber("mtu", link.Mtu);
    json.WriteBoolean("up", link.IsUp);
    json.WriteString("alias", link.Alias);
    json.WriteEndObject();
}

static string Record(Action action)
{
    try
    {
        action();
        return "ok";
    }
    catch (NetlinkException e)
    {
        return $"errno {e.Errno}: {e.Operation}";
    }
}
