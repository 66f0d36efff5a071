using System.Text.Json;
using BranchEni.Agent.Configuration;
using BranchEni.Agent.Node;
using BranchEni.Contracts;

namespace BranchEni.Agent.Tests.Node;

public sealed class CniInstallerTests
{
    [Fact]
    public void Installs_the_binary_executable_and_a_conflist_with_the_contract_names()
    {
        var dir = Directory.CreateTempSubdirectory("branch-eni-cni-install-").FullName;
        try
        {
            var binary = Path.Combine(dir, "src-branch-eni");
            File.WriteAllText(binary, "#!/bin/sh\n");
            File.WriteAllText(Path.Combine(dir, "branch-eni-kube"), "#!/bin/sh\necho reader\n");
            var delegateFile = Path.Combine(dir, "delegate.json");
            File.WriteAllText(delegateFile, """{"type": "bridge", "bridge": "cni0"}""");
            var options = new AgentOptions
            {
                CniBinary = binary, CniBinDir = Path.Combine(dir, "bin"), CniConfDir = Path.Combine(dir, "net.d"), CniDelegateFile = delegateFile,
                StateDir = "/run/x", EnforcingMode = EnforcingMode.Standard, PluginLogFile = "/tmp/p.log", PluginLogLevel = "debug",
                DefaultMetadataAccess = BranchEni.Policy.MetadataAccess.Denied,
            };
            new CniInstaller(options, Serilog.Core.Logger.None).Install();

            var installed = Path.Combine(dir, "bin", "branch-eni");
            Assert.True(File.GetUnixFileMode(installed).HasFlag(UnixFileMode.OtherExecute));
            var reader = Path.Combine(dir, "bin", "branch-eni-kube");
            Assert.Equal("#!/bin/sh\necho reader\n", File.ReadAllText(reader));
            Assert.True(File.GetUnixFileMode(reader).HasFlag(UnixFileMode.OtherExecute));
            using var conf = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "net.d", "05-branch-eni.conflist")));
            var plugin = conf.RootElement.GetProperty("plugins")[0];
            Assert.Equal("branch-eni", plugin.GetProperty("type").GetString());
            Assert.Equal("/run/x", plugin.GetProperty("stateDir").GetString());
            Assert.Equal("standard", plugin.GetProperty("enforcingMode").GetString());
            Assert.Equal("/tmp/p.log", plugin.GetProperty("logFile").GetString());
            Assert.Equal("debug", plugin.GetProperty("logLevel").GetString());
            Assert.Equal("Denied", plugin.GetProperty("defaultPodMetadataAccess").GetString());
            Assert.Equal("cni0", plugin.GetProperty("delegate").GetProperty("bridge").GetString());
            Assert.Empty(Directory.GetFiles(Path.Combine(dir, "net.d"), "*.tmp-*"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void A_missing_binary_is_a_clear_error_and_writes_nothing()
    {
        var dir = Directory.CreateTempSubdirectory("branch-eni-cni-install-").FullName;
        try
        {
            var options = new AgentOptions { CniBinary = Path.Combine(dir, "nope"), CniBinDir = Path.Combine(dir, "bin"), CniConfDir = Path.Combine(dir, "net.d") };
            var e = Assert.Throws<NodePreparationException>(() => new CniInstaller(options, Serilog.Core.Logger.None).Install());
            Assert.Contains("BRANCH_ENI_CNI_BINARY", e.Message, StringComparison.Ordinal);
            Assert.False(Directory.Exists(Path.Combine(dir, "net.d")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
