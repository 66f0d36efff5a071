using System.Net;
using System.Net.NetworkInformation;
using BranchEni.Cni.Branch;
using BranchEni.Cni.Config;
using BranchEni.Cni.Logging;
using BranchEni.Contracts;
using BranchEni.Netlink;
using BranchEni.Policy;
using BranchEni.Testing;

namespace BranchEni.Cni.Tests.Kernel;

/// <summary>
/// A node namespace with a "trunk" veth into a "vpc" namespace, and a pod namespace. The host kernel has no 802.1Q,
/// so here the VLAN link is <see cref="VethVlanStandIn"/> (a veth named vlan.eth.N, branch MAC, peer in the vpc
/// namespace); every other step is the real one. The micro-VM tests run the real VLAN.
/// </summary>
internal sealed class BranchFixture : IDisposable
{
    public const int VlanId = 7;
    public static readonly PhysicalAddress BranchMac = BranchEniParser.ParseMac("0e:ee:16:bd:41:31", "mac");
    public static readonly IPAddress PodIp = IPAddress.Parse("10.77.0.20");
    public static readonly IPAddress Gateway = IPAddress.Parse("10.77.0.1");

    public BranchFixture(string tag)
    {
        Namespaces = new TestNamespaces(tag);
        try
        {
            Node = Namespaces.Node;
            Pod = Namespaces.Add($"pod-{Namespaces.Suffix}");
            Vpc = Namespaces.Add($"vpc-{Namespaces.Suffix}");
            Shell.Run($"ip -n {Node} link add trunk0 type veth peer name trunkpeer netns {Vpc}");
            Shell.Run($"ip -n {Node} link set trunk0 up && ip -n {Vpc} link set trunkpeer up");
            Shell.Run($"ip netns exec {Node} sysctl -qw net.ipv4.ip_forward=1");
            Host = NetlinkHandle.Open(TestNamespaces.PathOf(Node));
            PodNs = NetworkNamespace.Open(TestNamespaces.PathOf(Pod));
            VpcNs = NetworkNamespace.Open(TestNamespaces.PathOf(Vpc));
            VlanLink = new VethVlanStandIn(VpcNs);
        }
        catch
        {
            // A half-built fixture is never disposed by the test: remove its namespaces here.
            Namespaces.Dispose();
            throw;
        }
    }

    public TestNamespaces Namespaces { get; }

    public string Node { get; }

    public string Pod { get; }

    public string Vpc { get; }

    public NetlinkHandle Host { get; }

    public NetworkNamespace PodNs { get; }

    public NetworkNamespace VpcNs { get; }

    public string PodPath => TestNamespaces.PathOf(Pod);

    public BranchPlumbing Layout(EnforcingMode mode, string containerId = "ctr-a", string podName = "web-0", int vlanId = VlanId,
        MetadataAccess metadataAccess = MetadataAccess.Allowed) => new()
    {
        MetadataAccess = metadataAccess,
        ContainerId = containerId,
        HostVeth = BranchLayout.HostVethName("vlan", "default", podName),
        PodIfName = "eth0",
        VlanId = vlanId,
        BranchMac = BranchMac,
        PodIp = PodIp,
        VpcGateway = Gateway,
        Mtu = 9001,
        Mode = mode,
    };

    /// <summary>The VLAN link here: a veth whose peer is in the vpc namespace.</summary>
    public VethVlanStandIn VlanLink { get; }

    public BranchAdd Add(BranchPlumbing layout, Action<string>? beforeStep = null, bool rollBack = true, NetworkNamespace? podNs = null) =>
        new(Host, podNs ?? PodNs, layout, Host.GetLink("trunk0"), VlanLink, PluginLog.Silent())
        {
            BeforeStep = beforeStep,
            RollBackOnFailure = rollBack,
        };

    /// <summary>The vpc side of the stand-in VLAN: the subnet gateway, and the branch ENI's MAC for the pod IP (the
    /// VPC knows ENI MACs; it never ARPs for them).</summary>
    public void WireVpc(int vlanId = VlanId)
    {
        var peer = VethVlanStandIn.PeerName(vlanId);
        Shell.Run($"ip -n {Vpc} addr add {Gateway}/24 dev {peer} && ip -n {Vpc} link set {peer} up");
        Shell.Run($"ip -n {Vpc} neigh replace {PodIp} lladdr {BranchEniAssignment.FormatMac(BranchMac)} dev {peer} nud permanent");
    }

    public string NodeSnapshot() => TestNamespaces.Snapshot(Node);

    public string PodSnapshot() => TestNamespaces.Snapshot(Pod);

    public void Dispose()
    {
        Host.Dispose();
        PodNs.Dispose();
        VpcNs.Dispose();
        Namespaces.Dispose();
    }
}
