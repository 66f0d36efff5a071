using System.Net;
using BranchEni.Cni.Config;
using BranchEni.Cni.Protocol;
using BranchEni.Contracts;
using BranchEni.Netlink;
using BranchEni.Policy;
using Serilog.Core;

namespace BranchEni.Cni.Branch;

/// <summary>
/// ADD for a branch pod: applies the objects of <paramref name="layout"/> (the pod's <see cref="BranchPlumbing"/>) in
/// order, each registering its undo, so any failure leaves the node as it was. Runs under the node lock;
/// <paramref name="host"/> is bound to the node's namespace. <paramref name="vlanLink"/> creates the VLAN link on
/// <paramref name="trunk"/> (802.1Q on every node).
/// </summary>
internal sealed class BranchAdd(NetlinkHandle host, NetworkNamespace podNs, BranchPlumbing layout, Link trunk, IBranchVlanLink vlanLink, Logger log)
{
    /// <summary>Test hook: called with each step's name before it runs (fault injection proves every undo).</summary>
    internal Action<string>? BeforeStep { get; init; }

    /// <summary>Test hook: false simulates a process killed mid-ADD (no rollback), which DEL must still clean up.</summary>
    internal bool RollBackOnFailure { get; init; } = true;

    /// <summary>The step names in order, for tests that fail each in turn.</summary>
    public static readonly string[] Steps =
        ["preflight", "veth", "pod-address", "pod-routes", "pod-neighbour", "vlan", "vlan-routes", "metadata", "pod-route", "rules"];

    // RequireComplete proved both known.
    private string ContainerId => layout.ContainerId!;

    private string PodIfName => layout.PodIfName!;

    // Whether preflight found this container's own veth / VLAN link left over (a retry after a kill): the steps below
    // replace them.
    private bool leftoverVeth;
    private bool leftoverVlan;

    public CniResult Run(string cniVersion, string netnsPath)
    {
        RequireComplete();
        var undo = new UndoStack(log);
        try
        {
            // One socket in the pod's namespace for the whole ADD: each one costs a thread that setns()'s into it.
            using var pod = podNs.OpenNetlink();
            Step("preflight", () => Preflight(pod));
            Link hostVeth = null!;
            Step("veth", () => hostVeth = AddVeth(undo));
            Link podLink = null!;
            Step("pod-address", () => podLink = AddPodAddress(pod));
            Step("pod-routes", () => AddPodRoutes(pod, podLink));
            Step("pod-neighbour", () => pod.AddNeighbour(layout.PodNeighbour(podLink.Index, hostVeth.Mac)));
            Link vlan = null!;
            Step("vlan", () => vlan = AddVlan(undo));
            Step("vlan-routes", () => AddVlanRoutes(vlan));
            Step("metadata", () => ApplyMetadataAccess(undo));
            Step("pod-route", () => AddPodRoute(hostVeth, undo));
            Step("rules", () => AddRules(undo));
            undo.Commit();
            return BranchResult.Build(layout, hostVeth, podLink, vlan, netnsPath).ForVersion(cniVersion);
        }
        catch
        {
            if (RollBackOnFailure)
            {
                undo.Rollback();
            }

            throw;
        }
    }

    /// <summary>A model of what CHECK or `verify` know leaves fields unknown; ADD must make every object.</summary>
    private void RequireComplete()
    {
        if (layout.ContainerId is null || layout.PodIfName is null || layout.BranchMac is null || layout.VpcGateway is null)
        {
            throw new ArgumentException("ADD needs the container id, the pod's interface name, the branch MAC and the VPC gateway", nameof(layout));
        }
    }

    private void Step(string name, Action action)
    {
        BeforeStep?.Invoke(name);
        log.Debug("ADD step {Step} for {ContainerId}", name, ContainerId);
        action();
    }

    /// <summary>Refuses what would take over someone else's state, before anything changes.</summary>
    private void Preflight(NetlinkHandle pod)
    {
        var vlan = host.TryGetLink(layout.VlanLink);
        if (vlan is not null && vlan.Alias != ContainerId)
        {
            throw new CniException(CniErrorCode.BranchEniRefused,
                $"{layout.VlanLink} already exists and belongs to container '{vlan.Alias}'; refusing to share VLAN {layout.VlanId}");
        }

        var veth = host.TryGetLink(layout.HostVeth);
        if (veth is not null && !string.IsNullOrEmpty(veth.Alias) && veth.Alias != ContainerId)
        {
            throw new CniException(CniErrorCode.BranchEniRefused,
                $"host veth {layout.HostVeth} already exists for container '{veth.Alias}' (same pod name, another sandbox)");
        }

        if (pod.TryGetLink(PodIfName) is not null)
        {
            throw new CniException(CniErrorCode.InvalidEnvironment, $"{PodIfName} already exists in {podNs.Path}");
        }

        leftoverVlan = vlan is not null;
        leftoverVeth = veth is not null;
    }

    private Link AddVeth(UndoStack undo)
    {
        // A leftover of this same container's earlier ADD (retry after a kill) is replaced, never someone else's.
        if (leftoverVeth)
        {
            host.DeleteLinkIfExists(layout.HostVeth);
        }

        host.AddVethPair(new VethPairSpec { Name = layout.HostVeth, PeerName = PodIfName, Mtu = layout.Mtu, PeerNamespace = podNs });
        undo.Push("veth", () => host.DeleteLinkIfExists(layout.HostVeth));
        // Index and MAC are what the rest needs; neither changes when the link goes up, so it is not read again.
        var veth = host.GetLink(layout.HostVeth);
        host.SetLinkAlias(veth.Index, ContainerId);
        host.SetLinkUp(veth.Index);
        return veth;
    }

    private Link AddPodAddress(NetlinkHandle pod)
    {
        var link = pod.GetLink(PodIfName);
        pod.AddAddress(new InterfaceAddress { LinkIndex = link.Index, Address = layout.PodAddress.BaseAddress, PrefixLength = layout.PodAddress.PrefixLength });
        pod.SetLinkUp(link.Index);
        return link;
    }

    private void AddPodRoutes(NetlinkHandle pod, Link podLink)
    {
        foreach (var route in layout.PodRoutes)
        {
            pod.AddRoute(route.Bind(podLink.Index));
        }
    }

    private Link AddVlan(UndoStack undo)
    {
        if (leftoverVlan)
        {
            // Preflight proved it is this container's own leftover.
            host.DeleteLinkIfExists(layout.VlanLink);
        }

        vlanLink.Create(host, new VlanSpec
        {
            // No MTU: a VLAN link cannot exceed its trunk's (EINVAL), and inheriting it is what the VPC carries.
            Name = layout.VlanLink, ParentIndex = trunk.Index, VlanId = layout.VlanId, Mac = layout.BranchMac,
        });
        undo.Push("vlan", () => DeleteVlanIfOurs());
        var vlan = host.GetLink(layout.VlanLink);
        host.SetLinkAlias(vlan.Index, ContainerId);
        host.SetLinkUp(vlan.Index);
        return vlan;
    }

    private void DeleteVlanIfOurs()
    {
        if (host.TryGetLink(layout.VlanLink) is { } vlan && (vlan.Alias is null or "" || vlan.Alias == ContainerId))
        {
            host.DeleteLinkIfExists(layout.VlanLink);
        }
    }

    private void AddVlanRoutes(Link vlan)
    {
        foreach (var route in layout.VlanTableRoutes(layout.VpcGateway!))
        {
            host.ReplaceRoute(route.Bind(vlan.Index));
        }
    }

    /// <summary>Before the rules steer the pod's traffic into its table, so a denied pod never has a moment of access.</summary>
    private void ApplyMetadataAccess(UndoStack undo)
    {
        var route = layout.MetadataDenyRoute;
        if (layout.MetadataAccess == MetadataAccess.Denied)
        {
            host.ReplaceRoute(route);
            undo.Push("metadata", () => host.DeleteRouteIfExists(route));
        }
        else
        {
            // A deny route left by an earlier pod of this VLAN (its DEL never ran) would wrongly deny this one.
            host.DeleteRouteIfExists(route);
        }
    }

    private void AddPodRoute(Link hostVeth, UndoStack undo)
    {
        var route = layout.PodHostRoute.Bind(hostVeth.Index);
        host.ReplaceRoute(route);
        undo.Push("pod-route", () => host.DeleteRouteIfExists(route));
    }

    private void AddRules(UndoStack undo)
    {
        foreach (var rule in layout.Rules)
        {
            // Rule add without NLM_F_EXCL duplicates silently: clear an identical leftover first.
            while (host.DeleteRuleIfExists(rule))
            {
            }

            host.AddRule(rule);
            undo.Push("rules", () => host.DeleteRuleIfExists(rule));
        }
    }
}
