using System.Net;
using System.Text.Json.Nodes;
using BranchEni.Packaging.Tests.Support;

namespace BranchEni.Packaging.Tests;

/// <summary>What the real agent, started as the DaemonSet starts it, did against the sandbox (<see cref="AgentRun"/>).</summary>
public sealed class AgentRunTests(AgentRun run) : IClassFixture<AgentRun>
{
    [Fact]
    public void The_cluster_role_grants_exactly_the_api_requests_the_agent_made()
    {
        var observed = run.Requests.Select(r => ApiAccess.FromRequest(r.Method, r.PathAndQuery)).OfType<ApiAccess>().ToHashSet();
        var nonResource = run.Requests.Where(r => ApiAccess.FromRequest(r.Method, r.PathAndQuery) is null).Select(r => r.PathAndQuery).Distinct().ToList();
        var granted = ApiAccess.Granted(run.Manifests.Get("ClusterRole", "branch-eni"));

        Assert.True(run.Requests.Count > 10, $"only {run.Requests.Count} requests recorded");
        Assert.Empty(nonResource);
        Assert.True(observed.SetEquals(granted),
            $"used but not granted: [{string.Join(", ", observed.Except(granted))}]; granted but never used: [{string.Join(", ", granted.Except(observed))}]");
    }

    [Fact]
    public void The_iam_policy_allows_exactly_the_ec2_actions_the_agent_called()
    {
        var called = run.Ec2Calls.Keys.Select(a => "ec2:" + a).ToHashSet(StringComparer.Ordinal);
        var allowed = IamPolicy.Load().Actions;

        // CreateTags is never called on its own: EC2 authorizes the TagSpecifications of CreateNetworkInterface as it.
        Assert.True(allowed.SetEquals(called.Append("ec2:CreateTags")),
            $"called but not allowed: [{string.Join(", ", called.Except(allowed))}]; allowed but never called: [{string.Join(", ", allowed.Except(called))}]");
        // Nothing the agent can do was skipped by this run: the source's EC2 calls are the observed ones.
        Assert.Equal(IamPolicy.ActionsInAgentSource().Order(), called.Order());
    }

    [Fact]
    public void The_agent_installs_the_cni_into_the_node_directories_with_paths_valid_on_the_node()
    {
        Assert.Equal("/opt/cni/bin", run.Manifests.NodePathOf(run.Manifests.PlainEnv["BRANCH_ENI_CNI_BIN_DIR"]));
        Assert.Equal("/etc/cni/net.d", run.Manifests.NodePathOf(run.Manifests.PlainEnv["BRANCH_ENI_CNI_CONF_DIR"]));
        Assert.Equal(run.CniBinaryShipped, run.CniBinaryInstalled);

        var plugin = JsonNode.Parse(run.InstalledConflist!)!["plugins"]![0]!;
        Assert.Equal("branch-eni", plugin["type"]!.GetValue<string>());
        Assert.Equal(run.Env["BRANCH_ENI_STATE_DIR"], plugin["stateDir"]!.GetValue<string>());
        Assert.Equal(run.Env["AWS_VPC_K8S_PLUGIN_LOG_FILE"], plugin["logFile"]!.GetValue<string>());
        Assert.Equal(run.Env["POD_SECURITY_GROUP_ENFORCING_MODE"], plugin["enforcingMode"]!.GetValue<string>());
        var delegateJson = run.Manifests.Get("ConfigMap", "branch-eni-delegate")["data"]!["delegate.json"]!.GetValue<string>();
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(delegateJson), plugin["delegate"]), plugin["delegate"]?.ToJsonString());
    }

    [Fact]
    public void The_example_policies_give_each_pod_the_security_groups_they_name()
    {
        Assert.Equal(["sg-0a1b2c3d4e5f60001", "sg-0a1b2c3d4e5f60002"], run.GroupsByPod["green"]);
        Assert.Equal(["sg-0a1b2c3d4e5f60003"], run.GroupsByPod["pay"]);
        Assert.Equal(["sg-0a1b2c3d4e5f60001"], run.GroupsByPod[AgentRun.AnnotatedPod]);
        foreach (var (pod, groups) in run.GroupsByPod)
        {
            Assert.Equal(groups.Select(g => "sg.aws.tigera.io/" + g).Order(StringComparer.Ordinal), run.SgLabelsByPod[pod]);
        }
    }

    [Fact]
    public void The_probes_answer_and_sigterm_stops_the_agent_within_the_grace_period()
    {
        Assert.Equal(HttpStatusCode.OK, run.Probes["readinessProbe"]);
        Assert.Equal(HttpStatusCode.OK, run.Probes["livenessProbe"]);
        Assert.True(run.MetricsScraped, "the metrics address did not serve /metrics alone");
        Assert.True(run.ExitedWithinGrace, run.AgentLog);
    }
}
