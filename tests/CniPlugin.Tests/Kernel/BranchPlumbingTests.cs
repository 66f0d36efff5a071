using System.Text.Json;
using BranchEni.Cni.Branch;
using BranchEni.Cni.Config;
using BranchEni.Cni.Logging;
using BranchEni.Cni.Protocol;
using BranchEni.Contracts;
using BranchEni.Policy;

namespace BranchEni.Cni.Tests.Kernel;

/// <summary>The branch pod's veth, address, route, neighbour and rule steps against the real host kernel.</summary>
public sealed class BranchPlumbingTests
{
    [Theory]
    [InlineData("strict")]
    [InlineData("standard")]
    public void AddBuildsTheDocumentedLayoutCarriesTrafficAndDelRestoresTheNode(string modeName)
    {
        var mode = ModeOf(modeName);
        using var f = new BranchFixture("bp");
        var nodeBefore = f.NodeSnapshot();
        var podBefore = f.PodSnapshot();
        var layout = f.Layout(mode);

        var result = f.Add(layout).Run("1.0.0", f.PodPath);
        f.WireVpc();

        var veth = Link(f.Node, layout.HostVeth);
        Assert.Equal("ctr-a", veth.GetProperty("ifalias").GetString());
        Assert.Equal(9001, veth.GetProperty("mtu").GetInt32());
        Assert.Contains("10.77.0.20/32", Shell.Run($"ip -n {f.Pod} -4 -o addr show dev eth0"), StringComparison.Ordinal);
        var podRoutes = Shell.Run($"ip -n {f.Pod} -4 route show");
        Assert.Contains("default via 169.254.1.1 dev eth0", podRoutes, StringComparison.Ordinal);
        Assert.Contains("169.254.1.1 dev eth0 scope link", podRoutes, StringComparison.Ordinal);
        Assert.Contains($"169.254.1.1 dev eth0 lladdr {veth.GetProperty("address").GetString()} PERMANENT",
            Shell.Run($"ip -n {f.Pod} neigh show"), StringComparison.Ordinal);
        var vlan = Link(f.Node, "vlan.eth.7");
        Assert.Equal("0e:ee:16:bd:41:31", vlan.GetProperty("address").GetString());
        Assert.Equal("ctr-a", vlan.GetProperty("ifalias").GetString());
        var table = Shell.Run($"ip -n {f.Node} -4 route show table 107");
        Assert.Contains("default via 10.77.0.1 dev vlan.eth.7", table, StringComparison.Ordinal);
        Assert.Contains("10.77.0.1 dev vlan.eth.7 scope link", table, StringComparison.Ordinal);
        var rules = Shell.Run($"ip -n {f.Node} -4 rule show");
        var main = Shell.Run($"ip -n {f.Node} -4 route show table main");
        if (mode == EnforcingMode.Strict)
        {
            Assert.Contains($"10.77.0.20 dev {layout.HostVeth} scope link", table, StringComparison.Ordinal);
            Assert.Contains("10:\tfrom all iif vlan.eth.7 lookup 107", rules, StringComparison.Ordinal);
            Assert.Contains($"10:\tfrom all iif {layout.HostVeth} lookup 107", rules, StringComparison.Ordinal);
            Assert.DoesNotContain("10.77.0.20", main, StringComparison.Ordinal);
        }
        else
        {
            Assert.Contains($"10.77.0.20 dev {layout.HostVeth} scope link", main, StringComparison.Ordinal);
            Assert.Contains("512:\tfrom all to 10.77.0.20 lookup main", rules, StringComparison.Ordinal);
            Assert.Contains("1536:\tfrom 10.77.0.20 lookup 107", rules, StringComparison.Ordinal);
        }

        // The pod's traffic leaves through its VLAN link to the VPC gateway and the answer comes back.
        Shell.Run($"ip netns exec {f.Pod} ping -c 1 -W 2 10.77.0.1");

        var json = JsonSerializer.Serialize(result, CniJsonContext.Default.CniResult);
        var footprint = BranchResult.Read(PrevResultReader.Read(JsonDocument.Parse(json).RootElement)!)!;
        new BranchCheck(f.Host, f.PodNs, "ctr-a", mode, f.VlanLink).Run(footprint, MetadataAccess.Allowed);

        Assert.True(new BranchDel(f.Host, "ctr-a", PluginLog.Silent(), f.VlanLink).Run(footprint, null, null) > 0);
        Assert.Equal(nodeBefore, f.NodeSnapshot());
        Assert.Equal(podBefore, f.PodSnapshot());
        Assert.Equal(0, new BranchDel(f.Host, "ctr-a", PluginLog.Silent(), f.VlanLink).Run(footprint, null, null));
    }

    [Theory]
    [InlineData("neighbour", "ip -n {pod} neigh del 169.254.1.1 dev eth0")]
    [InlineData("rule prio 10 iif vlan.eth.7 lookup 107 is missing (strict mode)", "ip -n {node} rule del priority 10 iif vlan.eth.7")]
    [InlineData("lacks 10.77.0.20/32", "ip -n {pod} addr del 10.77.0.20/32 dev eth0")]
    [InlineData("table 107 lacks the default", "ip -n {node} route del default table 107")]
    [InlineData("vlan.eth.7 is down", "ip -n {node} link set vlan.eth.7 down")]
    [InlineData("has MAC", "ip -n {node} link set vlan.eth.7 address 0e:ee:16:bd:41:32")]
    [InlineData("belongs to", "ip -n {node} link set vlan.eth.7 alias someone-else")]
    public void CheckNamesWhatDiffers(string named, string breakIt)
    {
        using var f = new BranchFixture("ck");
        var result = f.Add(f.Layout(EnforcingMode.Strict)).Run("1.1.0", f.PodPath);
        var footprint = BranchResult.Read(result)!;
        new BranchCheck(f.Host, f.PodNs, "ctr-a", EnforcingMode.Strict, f.VlanLink).Run(footprint, MetadataAccess.Allowed);

        Shell.Run(breakIt.Replace("{pod}", f.Pod, StringComparison.Ordinal).Replace("{node}", f.Node, StringComparison.Ordinal));
        var e = Assert.Throws<CniException>(() => new BranchCheck(f.Host, f.PodNs, "ctr-a", EnforcingMode.Strict, f.VlanLink).Run(footprint, MetadataAccess.Allowed));

        Assert.Equal(CniErrorCode.CheckMismatch, e.Code);
        Assert.Contains(named, e.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, string> EveryStep()
    {
        var data = new TheoryData<string, string>();
        foreach (var step in BranchAdd.Steps)
        {
            data.Add(step, "strict");
            data.Add(step, "standard");
            data.Add(step, "standard+denied");
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(EveryStep))]
    public void FailingAStepRollsBackAndADelAfterwardsLeavesTheNodeAsBefore(string failing, string modeName)
    {
        var mode = ModeOf(modeName);
        using var f = new BranchFixture("fs");
        var nodeBefore = f.NodeSnapshot();
        var podBefore = f.PodSnapshot();

        var e = Assert.Throws<InvalidOperationException>(() =>
            f.Add(f.Layout(mode, metadataAccess: AccessOf(modeName)), step => Fail(step, failing)).Run("1.0.0", f.PodPath));
        Assert.Contains(failing, e.Message, StringComparison.Ordinal);
        Assert.Equal(nodeBefore, f.NodeSnapshot());
        Assert.Equal(podBefore, f.PodSnapshot());

        new BranchDel(f.Host, "ctr-a", PluginLog.Silent(), f.VlanLink).Run(null, f.Layout(mode).HostVeth, null);
        Assert.Equal(nodeBefore, f.NodeSnapshot());
    }

    [Theory]
    [MemberData(nameof(EveryStep))]
    public void AKillBetweenStepsIsCleanedByDelWithoutPrevResult(string killedBefore, string modeName)
    {
        var mode = ModeOf(modeName);
        using var f = new BranchFixture("kl");
        var nodeBefore = f.NodeSnapshot();
        var podBefore = f.PodSnapshot();

        Assert.Throws<InvalidOperationException>(() =>
            f.Add(f.Layout(mode, metadataAccess: AccessOf(modeName)), step => Fail(step, killedBefore), rollBack: false).Run("1.0.0", f.PodPath));
        // What kubelet does next: DEL with the pod's identity and no prevResult (ADD never returned one).
        new BranchDel(f.Host, "ctr-a", PluginLog.Silent(), f.VlanLink).Run(null, f.Layout(mode).HostVeth, null);

        Assert.Equal(nodeBefore, f.NodeSnapshot());
        Assert.Equal(podBefore, f.PodSnapshot());
    }

    [Fact]
    public void AVlanLinkOwnedByAnotherContainerIsRefusedAndNeverDeleted()
    {
        using var f = new BranchFixture("ow");
        f.Add(f.Layout(EnforcingMode.Strict, containerId: "ctr-owner", podName: "owner")).Run("1.0.0", f.PodPath);
        var pod2 = f.Namespaces.Add($"pod2-{f.Namespaces.Suffix}");
        using var pod2Ns = BranchEni.Netlink.NetworkNamespace.Open(TestNamespaces.PathOf(pod2));
        var nodeBefore = f.NodeSnapshot();
        var pod2Before = TestNamespaces.Snapshot(pod2);

        // A forged or stale assignment of the same VLAN to another pod: refused before anything changes.
        var intruder = f.Layout(EnforcingMode.Strict, containerId: "ctr-intruder", podName: "intruder");
        var e = Assert.Throws<CniException>(() => f.Add(intruder, podNs: pod2Ns).Run("1.0.0", TestNamespaces.PathOf(pod2)));
        Assert.Equal(CniErrorCode.BranchEniRefused, e.Code);
        Assert.Contains("ctr-owner", e.Message, StringComparison.Ordinal);
        Assert.Equal(nodeBefore, f.NodeSnapshot());
        Assert.Equal(pod2Before, TestNamespaces.Snapshot(pod2));

        // DEL of the intruder, even with a prevResult naming vlan.eth.7, leaves the owner's link and rules alone.
        var forged = new BranchFootprint(intruder.HostVeth, "eth0", 7, BranchFixture.PodIp, null, null, null, TestNamespaces.PathOf(pod2));
        new BranchDel(f.Host, "ctr-intruder", PluginLog.Silent(), f.VlanLink).Run(forged, intruder.HostVeth, 7);
        Assert.Equal(nodeBefore, f.NodeSnapshot());
    }

    [Fact]
    public void GcRemovesOnlyContainersOutsideTheValidSet()
    {
        using var f = new BranchFixture("gc");
        var nodeBefore = f.NodeSnapshot();
        f.Add(f.Layout(EnforcingMode.Standard, containerId: "ctr-stale", podName: "stale")).Run("1.1.0", f.PodPath);
        var pod2 = f.Namespaces.Add($"pod2-{f.Namespaces.Suffix}");
        using var pod2Ns = BranchEni.Netlink.NetworkNamespace.Open(TestNamespaces.PathOf(pod2));
        var live = f.Layout(EnforcingMode.Strict, containerId: "ctr-live", podName: "live", vlanId: 8) with { PodIp = System.Net.IPAddress.Parse("10.77.0.21") };
        f.Add(live, podNs: pod2Ns).Run("1.1.0", TestNamespaces.PathOf(pod2));
        var withLive = Shell.Run($"ip -n {f.Node} -j link show {live.HostVeth}");

        var removed = BranchGc.Run(f.Host, "vlan", new HashSet<string> { "ctr-live" }, PluginLog.Silent(), f.VlanLink);

        Assert.True(removed >= 3);
        Assert.Equal(withLive, Shell.Run($"ip -n {f.Node} -j link show {live.HostVeth}"));
        Assert.Contains("vlan.eth.8", Shell.Run($"ip -n {f.Node} link show"), StringComparison.Ordinal);
        Assert.DoesNotContain("vlan.eth.7", Shell.Run($"ip -n {f.Node} link show"), StringComparison.Ordinal);
        Assert.DoesNotContain("10.77.0.20", Shell.Run($"ip -n {f.Node} rule show"), StringComparison.Ordinal);
        Assert.Contains("iif vlan.eth.8 lookup 108", Shell.Run($"ip -n {f.Node} rule show"), StringComparison.Ordinal);

        BranchGc.Run(f.Host, "vlan", new HashSet<string>(), PluginLog.Silent(), f.VlanLink);
        Assert.Equal(nodeBefore, f.NodeSnapshot());
    }

    private static EnforcingMode ModeOf(string name) => name.StartsWith("strict", StringComparison.Ordinal) ? EnforcingMode.Strict : EnforcingMode.Standard;

    private static MetadataAccess AccessOf(string name) => name.EndsWith("+denied", StringComparison.Ordinal) ? MetadataAccess.Denied : MetadataAccess.Allowed;

    private static void Fail(string step, string failing)
    {
        if (step == failing)
        {
            throw new InvalidOperationException($"injected failure before {step}");
        }
    }

    private static JsonElement Link(string ns, string name) =>
        JsonDocument.Parse(Shell.Run($"ip -n {ns} -j -d link show dev {name}")).RootElement[0];
}
