using BranchEni.Cni.Branch;
using BranchEni.Cni.Config;
using BranchEni.Cni.Logging;
using BranchEni.Cni.Protocol;
using BranchEni.Contracts;
using BranchEni.Policy;

namespace BranchEni.Cni.Tests.Kernel;

/// <summary>
/// A pod denied the metadata service gets `unreachable 169.254.169.254/32` in table 100+N, in both enforcing modes;
/// an allowed pod reaches 169.254.169.254 through its VLAN link (here the stand-in "vpc" namespace answers it).
/// </summary>
public sealed class MetadataAccessTests
{
    public static TheoryData<string> Modes => ["strict", "standard"];

    [Theory]
    [MemberData(nameof(Modes))]
    public void ADeniedPodGetsNoRouteToTheMetadataServiceEvenWhenMainHasOneAndDelRemovesTheRoute(string modeName)
    {
        var mode = ModeOf(modeName);
        using var f = new BranchFixture("md");
        // A node that reaches IMDS itself: main has a route to it, which the pod's table must win over.
        Shell.Run($"ip -n {f.Node} route add 169.254.169.254/32 dev trunk0");
        var nodeBefore = f.NodeSnapshot();
        var layout = f.Layout(mode, metadataAccess: MetadataAccess.Denied);

        var result = f.Add(layout).Run("1.1.0", f.PodPath);
        f.WireVpc();
        ServeMetadataAddress(f);

        Assert.Contains("unreachable 169.254.169.254", Shell.Run($"ip -n {f.Node} route show table 107"), StringComparison.Ordinal);
        // The kernel's own lookup for a packet the pod sends: table 107 decides before main, in this mode's rules.
        var lookup = Assert.Throws<InvalidOperationException>(() =>
            Shell.Run($"ip -n {f.Node} route get 169.254.169.254 from {BranchFixture.PodIp} iif {layout.HostVeth}"));
        Assert.Contains("No route to host", lookup.Message, StringComparison.Ordinal);
        // No answer; in strict mode not even the ICMP error, which only table 107 could route back to the pod.
        var ping = Assert.Throws<InvalidOperationException>(() => Shell.Run($"ip netns exec {f.Pod} ping -c 1 -W 2 169.254.169.254"));
        Assert.Contains(" 0 received", ping.Message, StringComparison.Ordinal);
        if (mode == EnforcingMode.Standard)
        {
            Assert.Contains("Destination Host Unreachable", ping.Message, StringComparison.Ordinal);
        }
        // The rest of the VPC stays reachable.
        Shell.Run($"ip netns exec {f.Pod} ping -c 1 -W 2 10.77.0.1");
        var footprint = BranchResult.Read(result)!;
        new BranchCheck(f.Host, f.PodNs, "ctr-a", mode, f.VlanLink).Run(footprint, MetadataAccess.Denied);

        new BranchDel(f.Host, "ctr-a", PluginLog.Silent(), f.VlanLink).Run(footprint, null, null);
        Assert.Equal(nodeBefore, f.NodeSnapshot());
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void AnAllowedPodReachesTheMetadataServiceThroughItsVlan(string modeName)
    {
        var mode = ModeOf(modeName);
        using var f = new BranchFixture("ma");
        var layout = f.Layout(mode);

        var result = f.Add(layout).Run("1.1.0", f.PodPath);
        f.WireVpc();
        ServeMetadataAddress(f);

        Assert.DoesNotContain("169.254.169.254", Shell.Run($"ip -n {f.Node} route show table 107"), StringComparison.Ordinal);
        Assert.Contains("dev vlan.eth.7 table 107",
            Shell.Run($"ip -n {f.Node} route get 169.254.169.254 from {BranchFixture.PodIp} iif {layout.HostVeth}"), StringComparison.Ordinal);
        Shell.Run($"ip netns exec {f.Pod} ping -c 1 -W 2 169.254.169.254");
        new BranchCheck(f.Host, f.PodNs, "ctr-a", mode, f.VlanLink).Run(BranchResult.Read(result)!, MetadataAccess.Allowed);
    }

    [Fact]
    public void CheckFailsWhenTheDenyRouteIsRemovedOrAddedBehindItsBack()
    {
        using var f = new BranchFixture("mc");
        var denied = BranchResult.Read(f.Add(f.Layout(EnforcingMode.Strict, metadataAccess: MetadataAccess.Denied)).Run("1.1.0", f.PodPath))!;
        var check = new BranchCheck(f.Host, f.PodNs, "ctr-a", EnforcingMode.Strict, f.VlanLink);
        check.Run(denied, MetadataAccess.Denied);

        // The record says Allowed, the kernel denies.
        var wrongWay = Assert.Throws<CniException>(() => check.Run(denied, MetadataAccess.Allowed));
        Assert.Equal(CniErrorCode.CheckMismatch, wrongWay.Code);
        Assert.Contains("has unreachable 169.254.169.254/32", wrongWay.Message, StringComparison.Ordinal);

        Shell.Run($"ip -n {f.Node} route del unreachable 169.254.169.254/32 table 107");
        var removed = Assert.Throws<CniException>(() => check.Run(denied, MetadataAccess.Denied));
        Assert.Equal(CniErrorCode.CheckMismatch, removed.Code);
        Assert.Contains("lacks unreachable 169.254.169.254/32", removed.Message, StringComparison.Ordinal);
        check.Run(denied, MetadataAccess.Allowed);

        Shell.Run($"ip -n {f.Node} route add unreachable 169.254.169.254/32 table 107");
        Assert.Throws<CniException>(() => check.Run(denied, MetadataAccess.Allowed));
    }

    [Fact]
    public void DelFromPrevResultRemovesTheDenyRouteAfterTheVlanLinkIsAlreadyGone()
    {
        using var f = new BranchFixture("mv");
        var nodeBefore = f.NodeSnapshot();
        var footprint = BranchResult.Read(f.Add(f.Layout(EnforcingMode.Standard, metadataAccess: MetadataAccess.Denied)).Run("1.1.0", f.PodPath))!;

        // The trunk (and with it every VLAN link) went away first: only the device-less route is left in table 107.
        Shell.Run($"ip -n {f.Node} link del vlan.eth.7");
        Assert.Contains("unreachable 169.254.169.254", Shell.Run($"ip -n {f.Node} route show table 107"), StringComparison.Ordinal);

        new BranchDel(f.Host, "ctr-a", PluginLog.Silent(), f.VlanLink).Run(footprint, null, null);
        Assert.Equal(nodeBefore, f.NodeSnapshot());
    }

    [Fact]
    public void GcRemovesTheDenyRouteOfAStaleContainer()
    {
        using var f = new BranchFixture("mg");
        var nodeBefore = f.NodeSnapshot();
        f.Add(f.Layout(EnforcingMode.Strict, containerId: "ctr-stale", metadataAccess: MetadataAccess.Denied)).Run("1.1.0", f.PodPath);

        BranchGc.Run(f.Host, "vlan", new HashSet<string>(), PluginLog.Silent(), f.VlanLink);

        Assert.Equal(nodeBefore, f.NodeSnapshot());
    }

    [Fact]
    public void AnAllowedPodClearsADenyRouteLeftInItsTableByAnEarlierPod()
    {
        using var f = new BranchFixture("ml");
        Shell.Run($"ip -n {f.Node} route add unreachable 169.254.169.254/32 table 107");

        var result = f.Add(f.Layout(EnforcingMode.Strict)).Run("1.1.0", f.PodPath);

        Assert.DoesNotContain("169.254.169.254", Shell.Run($"ip -n {f.Node} route show table 107"), StringComparison.Ordinal);
        new BranchCheck(f.Host, f.PodNs, "ctr-a", EnforcingMode.Strict, f.VlanLink).Run(BranchResult.Read(result)!, MetadataAccess.Allowed);
    }

    /// <summary>The stand-in VPC answers 169.254.169.254 (ping is enough here; the micro-VM test fetches over HTTP).</summary>
    private static void ServeMetadataAddress(BranchFixture f) =>
        Shell.Run($"ip -n {f.Vpc} link set lo up && ip -n {f.Vpc} addr add 169.254.169.254/32 dev lo");

    private static EnforcingMode ModeOf(string name) => name == "strict" ? EnforcingMode.Strict : EnforcingMode.Standard;
}
