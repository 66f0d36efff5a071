using System.Diagnostics;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using BranchEni.Netlink;
using BranchEni.Sandbox.Admin;
using Route = BranchEni.Netlink.Route;

namespace BranchEni.Sandbox.Fabric;

/// <summary>
/// Plays the VPC's network for one node: follows the sandbox's EC2 state and keeps the kernel in step. The node is
/// the namespace this process runs in; other running instances tagged <c>fabric:netns</c> are nodes too, each in the
/// namespace of that name (/run/netns), plumbed alike; a "router" namespace stands for the VPC. Each ENI of the node instance is a
/// veth (node side named as on Nitro, with the ENI's MAC; the primary also gets its address and default route, as
/// DHCP would give it), each branch association a VLAN sub-interface of the trunk's far end answering as the
/// subnet gateway, each tagged stand-alone ENI a host in its own namespace, and the security groups an nftables
/// ruleset on the router's forwarding path. Runs until cancelled; removes what it built when it stops.
/// </summary>
/// <remarks><paramref name="serveMetadata"/>, when given, is handed the router's 169.254.169.254:80 socket to serve IMDS on.</remarks>
internal sealed class VpcFabric(SandboxAdmin admin, string nodeInstanceId, string routerNetnsPath, TextWriter log,
    Func<Socket, Task>? serveMetadata = null)
{
    private readonly Dictionary<string, object> _built = new(StringComparer.Ordinal);
    private readonly HashSet<string> _routes = new(StringComparer.Ordinal);
    private string? _ruleset;

    public async Task RunAsync(CancellationToken stop)
    {
        using var router = NetworkNamespace.Open(routerNetnsPath);
        router.WriteSysctl("net/ipv4/ip_forward", "1");
        // The VPC answers ARP for every address of the subnet, whichever side it lives on.
        router.WriteSysctl("net/ipv4/conf/all/proxy_arp", "1");
        router.WriteSysctl("net/ipv4/conf/default/proxy_arp", "1");
        router.WriteSysctl("net/ipv4/conf/all/rp_filter", "0");
        router.WriteSysctl("net/ipv4/conf/default/rp_filter", "0");
        try
        {
            await ServeMetadataAsync(router).ConfigureAwait(false);
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    Reconcile(router, FabricPlan.Of(admin.Snapshot(), nodeInstanceId));
                }
                catch (Exception e) when (e is NetlinkException or IOException or InvalidOperationException)
                {
                    log.WriteLine($"fabric: {e.Message} (retrying)");
                }

                await Task.Delay(200, stop).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
        finally
        {
            TearDown(router);
        }
    }

    private async Task ServeMetadataAsync(NetworkNamespace router)
    {
        if (serveMetadata is null)
        {
            return;
        }

        try
        {
            await serveMetadata(FabricMetadata.Bind(router)).ConfigureAwait(false);
            log.WriteLine($"fabric: instance metadata of {nodeInstanceId} at {FabricMetadata.Address}:{FabricMetadata.Port} in the router");
        }
        catch (Exception e) when (e is NetlinkException or SocketException or IOException or InvalidOperationException)
        {
            // The rest of the VPC still works; the demo's metadata step will say what is missing.
            log.WriteLine($"fabric: instance metadata not served: {e.Message}");
        }
    }

    private void Reconcile(NetworkNamespace router, FabricPlan plan)
    {
        using var node = NetlinkHandle.Open();
        using var r = router.OpenNetlink();
        var wanted = plan.NodeNics.Select(n => (n.RouterName, (object)n))
            .Concat(plan.Hosts.Select(h => (h.RouterName, (object)h)))
            .Concat(plan.Branches.Select(b => (b.RouterName, (object)b)))
            .ToDictionary(x => x.RouterName, x => x.Item2, StringComparer.Ordinal);
        // Branch VLANs first: they hang off a trunk's far end that may be about to go.
        foreach (var (name, item) in _built.OrderBy(x => x.Value is BranchVlan ? 0 : 1).ToList())
        {
            if (!wanted.TryGetValue(name, out var now) || !now.Equals(item))
            {
                r.DeleteLinkIfExists(name);
                _built.Remove(name);
                log.WriteLine($"fabric: removed {Describe(item)}");
            }
        }

        foreach (var (name, item) in wanted.OrderBy(x => x.Value is BranchVlan ? 1 : 0))
        {
            if (!_built.ContainsKey(name) && TryBuild(node, router, r, item))
            {
                _built[name] = item;
                log.WriteLine($"fabric: built {Describe(item)}");
            }
        }

        ApplyRoutes(r, plan.Routes);
        if (plan.Ruleset != _ruleset)
        {
            Nft(router.Path, plan.Ruleset);
            _ruleset = plan.Ruleset;
            log.WriteLine("fabric: security groups loaded into nftables");
        }
    }

    private static bool TryBuild(NetlinkHandle node, NetworkNamespace router, NetlinkHandle r, object item)
    {
        switch (item)
        {
            case NodeNic { Netns: null } nic:
                BuildNodeNic(node, router, r, nic);
                return true;
            case NodeNic nic when File.Exists("/run/netns/" + nic.Netns):
                using (var ns = NetworkNamespace.Open("/run/netns/" + nic.Netns))
                using (var other = ns.OpenNetlink())
                {
                    BuildNodeNic(other, router, r, nic);
                }

                return true;
            case HostNic host when File.Exists("/run/netns/" + host.Netns):
                BuildHost(router, r, host);
                return true;
            case BranchVlan branch when r.TryGetLink(branch.TrunkRouterName) is { } trunk:
                BuildBranch(r, trunk, branch);
                return true;
            default:
                return false;
        }
    }

    private static void BuildNodeNic(NetlinkHandle node, NetworkNamespace router, NetlinkHandle r, NodeNic nic)
    {
        node.DeleteLinkIfExists(nic.NodeName);
        node.AddVethPair(new VethPairSpec { Name = nic.NodeName, PeerName = nic.RouterName, PeerNamespace = router, Mac = PhysicalAddress.Parse(nic.Mac), Mtu = 9001 });
        var far = r.GetLink(nic.RouterName);
        r.SetLinkUp(far.Index);
        if (nic.IsTrunk)
        {
            return; // the agent brings the trunk up; it carries only tagged frames
        }

        AnswerAsGateway(r, far.Index, nic.Gateway, nic.Ip);
        var near = node.GetLink(nic.NodeName);
        if (nic.DeviceIndex == 0)
        {
            node.AddAddress(new InterfaceAddress { LinkIndex = near.Index, Address = nic.Ip, PrefixLength = nic.SubnetPrefix });
            node.SetLinkUp(near.Index);
            node.AddRoute(new Route { Destination = IPNetwork.Parse("0.0.0.0/0"), Gateway = nic.Gateway, OutputIndex = near.Index });
        }
    }

    private static void BuildHost(NetworkNamespace router, NetlinkHandle r, HostNic host)
    {
        using var ns = NetworkNamespace.Open("/run/netns/" + host.Netns);
        using var h = ns.OpenNetlink();
        h.DeleteLinkIfExists("eth0");
        h.AddVethPair(new VethPairSpec { Name = "eth0", PeerName = host.RouterName, PeerNamespace = router, Mac = PhysicalAddress.Parse(host.Mac) });
        var eth0 = h.GetLink("eth0");
        h.AddAddress(new InterfaceAddress { LinkIndex = eth0.Index, Address = host.Ip, PrefixLength = host.SubnetPrefix });
        h.SetLinkUp(eth0.Index);
        if (h.TryGetLink("lo") is { } lo)
        {
            h.SetLinkUp(lo.Index);
        }

        h.AddRoute(new Route { Destination = IPNetwork.Parse("0.0.0.0/0"), Gateway = host.Gateway, OutputIndex = eth0.Index });
        var far = r.GetLink(host.RouterName);
        r.SetLinkUp(far.Index);
        AnswerAsGateway(r, far.Index, host.Gateway, host.Ip);
    }

    private static void BuildBranch(NetlinkHandle r, Link trunk, BranchVlan branch)
    {
        r.DeleteLinkIfExists(branch.RouterName);
        r.AddVlan(new VlanSpec { Name = branch.RouterName, ParentIndex = trunk.Index, VlanId = branch.VlanId });
        var vlan = r.GetLink(branch.RouterName);
        r.SetLinkUp(vlan.Index);
        AnswerAsGateway(r, vlan.Index, branch.Gateway, branch.Ip);
        // The VPC knows every ENI's MAC; it never needs to ARP for a branch.
        r.ReplaceNeighbour(new Neighbour { LinkIndex = vlan.Index, Address = branch.Ip, Mac = PhysicalAddress.Parse(branch.Mac) });
    }

    /// <summary>The gateway address on this link (host-only, so many links can hold it) and the ENI's /32 behind it.</summary>
    private static void AnswerAsGateway(NetlinkHandle r, int linkIndex, IPAddress gateway, IPAddress eniIp)
    {
        r.AddAddress(new InterfaceAddress { LinkIndex = linkIndex, Address = gateway, PrefixLength = 32 });
        r.ReplaceRoute(new Route { Destination = new IPNetwork(eniIp, 32), OutputIndex = linkIndex, Scope = Scope.Link });
    }

    private void ApplyRoutes(NetlinkHandle r, IReadOnlyList<InstanceRouteEntry> routes)
    {
        foreach (var route in routes.Where(x => !_routes.Contains(x.Destination.ToString())))
        {
            r.ReplaceRoute(new Route { Destination = route.Destination, Gateway = route.NextHop });
            _routes.Add(route.Destination.ToString());
            log.WriteLine($"fabric: route {route.Destination} via {route.NextHop}");
        }
    }

    private void TearDown(NetworkNamespace router)
    {
        try
        {
            using var r = router.OpenNetlink();
            foreach (var name in _built.OrderBy(x => x.Value is BranchVlan ? 0 : 1).Select(x => x.Key))
            {
                r.DeleteLinkIfExists(name);
            }

            FabricMetadata.Remove(r);
            Nft(router.Path, $"table inet {SecurityGroupRuleset.Table}\ndelete table inet {SecurityGroupRuleset.Table}\n");
        }
        catch (Exception e) when (e is NetlinkException or IOException or InvalidOperationException)
        {
            log.WriteLine($"fabric: tear-down: {e.Message}");
        }
    }

    private static void Nft(string netnsPath, string ruleset)
    {
        var start = new ProcessStartInfo("nsenter", ["--net=" + netnsPath, "nft", "-f", "-"])
        {
            RedirectStandardInput = true,
            RedirectStandardError = true,
        };
        using var nft = Process.Start(start) ?? throw new InvalidOperationException("nft did not start");
        nft.StandardInput.Write(ruleset);
        nft.StandardInput.Close();
        var error = nft.StandardError.ReadToEnd();
        nft.WaitForExit();
        if (nft.ExitCode != 0)
        {
            throw new InvalidOperationException($"nft -f: exit {nft.ExitCode}: {error.Trim()}");
        }
    }

    private static string Describe(object item) => item switch
    {
        NodeNic n => $"{(n.IsTrunk ? "trunk" : "ENI")} {n.EniId} as node link {n.NodeName} ({n.Mac}){(n.Netns is null ? "" : " in netns " + n.Netns)} <-> router {n.RouterName}",
        HostNic h => $"host {h.EniId} {h.Ip} in netns {h.Netns} <-> router {h.RouterName}",
        BranchVlan b => $"branch {b.BranchEniId} {b.Ip} on VLAN {b.VlanId} as router {b.RouterName}",
        _ => item.ToString() ?? "",
    };
}
