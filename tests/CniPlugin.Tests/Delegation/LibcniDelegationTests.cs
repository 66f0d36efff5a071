namespace BranchEni.Cni.Tests.Delegation;

/// <summary>libcni (what containerd and CRI-O are built on) drives the published binary on a delegated pod: conflist
/// loading, version negotiation, the result cache feeding CHECK and DEL.</summary>
public sealed class LibcniDelegationTests
{
    [Fact]
    public void LibcniAddCheckDelDelOnADelegatedPod()
    {
        var driver = LibcniDriver.Build();
        using var ns = new TestNamespaces("lc");
        var pod = ns.Add($"pod-{ns.Suffix}");
        var dir = $"/tmp/branch-eni-libcni-{ns.Suffix}";
        Directory.CreateDirectory(dir);
        try
        {
            var conflist = Path.Combine(dir, "pods.conflist");
            File.WriteAllText(conflist, "{\"cniVersion\":\"1.0.0\",\"name\":\"pods\",\"plugins\":[{\"type\":\"branch-eni\",\"stateDir\":\"" + dir
                + "/state\",\"logFile\":\"" + dir + "/plugin.log\",\"delegate\":{\"type\":\"ptp\",\"ipMasq\":false,\"ipam\":{\"type\":\"host-local\","
                + "\"subnet\":\"10.213.61.0/24\",\"dataDir\":\"" + dir + "/ipam\"}}}]}");
            const string uid = "1234abcd-0000-0000-0000-00000000001c";
            DelegationTests.NoBranchDecision($"{dir}/state", "default", "plain", uid);
            var before = TestNamespaces.Snapshot(ns.Node);
            string Drive(string command) => Shell.Run(
                $"ip netns exec {ns.Node} {driver} {command} -conflist {conflist} -cni-path {Path.GetDirectoryName(BranchEni.Testing.RepoPaths.RequireCniBinary())}:/usr/lib/cni "
                + $"-netns {TestNamespaces.PathOf(pod)} -id ctr-lc -ifname eth0 -args 'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=plain;K8S_POD_UID={uid}' -cache-dir {dir}/cache");

            var result = System.Text.Json.JsonDocument.Parse(Drive("add")).RootElement;
            var ip = result.GetProperty("ips")[0].GetProperty("address").GetString()!;
            Assert.StartsWith("10.213.61.", ip, StringComparison.Ordinal);
            Shell.Run($"ip netns exec {ns.Node} ping -c 1 -W 2 {ip.Split('/')[0]}");
            Drive("check");
            Drive("del");
            Drive("del");

            Assert.Equal(before, TestNamespaces.Snapshot(ns.Node));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
