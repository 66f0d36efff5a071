using System.Text.Json.Nodes;
using BranchEni.Packaging.Tests.Support;

namespace BranchEni.Packaging.Tests;

/// <summary>packaging/examples/10-branch-eni-portmap.conflist: branch-eni first (with the DaemonSet's settings and
/// delegate), portmap chained after it, only field names of the CNI contract (DESIGN.md §2).</summary>
public sealed class ExampleConflistTests
{
    private static readonly string[] ContractFields =
        ["type", "kubeconfig", "stateDir", "trunkInterface", "enforcingMode", "mtu", "vethPrefix", "annotationWaitSeconds", "logFile", "logLevel", "delegate"];

    [Fact]
    public void Branch_eni_comes_first_with_the_daemonsets_settings_and_portmap_is_chained_after_it()
    {
        var conflist = JsonNode.Parse(Repo.Read("packaging", "examples", "10-branch-eni-portmap.conflist"))!;
        var m = Manifests.Kustomize();
        var plugins = conflist["plugins"]!.AsArray();
        Assert.Equal(2, plugins.Count);

        var ours = plugins[0]!.AsObject();
        Assert.Equal("branch-eni", ours["type"]!.GetValue<string>());
        Assert.DoesNotContain(ours.Select(p => p.Key), k => !ContractFields.Contains(k));
        Assert.Equal(m.PlainEnv["BRANCH_ENI_STATE_DIR"], ours["stateDir"]!.GetValue<string>());
        Assert.Equal(m.PlainEnv["AWS_VPC_K8S_PLUGIN_LOG_FILE"], ours["logFile"]!.GetValue<string>());
        Assert.Equal(m.PlainEnv["POD_SECURITY_GROUP_ENFORCING_MODE"], ours["enforcingMode"]!.GetValue<string>());
        var delegateJson = JsonNode.Parse(m.Get("ConfigMap", "branch-eni-delegate")["data"]!["delegate.json"]!.GetValue<string>());
        Assert.True(JsonNode.DeepEquals(delegateJson, ours["delegate"]));

        var portmap = plugins[1]!;
        Assert.Equal("portmap", portmap["type"]!.GetValue<string>());
        Assert.True(portmap["capabilities"]!["portMappings"]!.GetValue<bool>());
    }
}
