namespace BranchEni.Cni.Tests.Kernel;

/// <summary>STATUS through the published binary: ready when the trunk is on the node or no branch pods are possible.</summary>
public sealed class StatusTests
{
    private static string Config(string stateDir, string extra = "") =>
        "{\"cniVersion\":\"1.1.0\",\"name\":\"pods\",\"type\":\"branch-eni\",\"stateDir\":\"" + stateDir + "\",\"logFile\":\"" + stateDir
        + "/plugin.log\"" + extra + "}";

    [Fact]
    public void StatusFollowsTheTrunk()
    {
        using var ns = new TestNamespaces("st");
        var state = $"/tmp/branch-eni-status-{ns.Suffix}";
        Directory.CreateDirectory(state);
        try
        {
            // No trunk recorded or configured: this node carries no branch pods, and delegation needs nothing.
            Assert.Equal(0, PluginProcess.Run(ns.Node, "STATUS", Config(state), "x", null).ExitCode);

            Shell.Run($"ip -n {ns.Node} link add trunk0 type veth peer name trunkpeer");
            var mac = System.Text.Json.JsonDocument.Parse(Shell.Run($"ip -n {ns.Node} -j link show trunk0")).RootElement[0].GetProperty("address").GetString();
            File.WriteAllText(Path.Combine(state, "trunk.json"), $$"""{"eniId":"eni-0abc","macAddress":"{{mac}}","linkName":"trunk0"}""");
            Assert.Equal(0, PluginProcess.Run(ns.Node, "STATUS", Config(state), "x", null).ExitCode);

            Shell.Run($"ip -n {ns.Node} link del trunk0");
            var gone = PluginProcess.Run(ns.Node, "STATUS", Config(state), "x", null);
            Assert.Equal(50, gone.ErrorCode);
            Assert.Contains(mac!, gone.Json.GetProperty("msg").GetString(), StringComparison.Ordinal);

            var named = PluginProcess.Run(ns.Node, "STATUS", Config(state, ",\"trunkInterface\":\"trunk9\""), "x", null);
            Assert.Equal(50, named.ErrorCode);
            Assert.Contains("trunk9", named.Json.GetProperty("msg").GetString(), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(state, recursive: true);
        }
    }
}
