using System.Text.Json.Nodes;
using BranchEni.Packaging.Tests.Support;

namespace BranchEni.Packaging.Tests;

/// <summary>The rendered DaemonSet, ServiceAccount and binding agree with each other and with the agent.</summary>
public sealed class DaemonSetTests
{
    private readonly Manifests _m = Manifests.Kustomize();

    [Fact]
    public void Every_environment_variable_in_the_manifest_is_one_the_agent_reads()
    {
        var reads = AgentProcess.EnvNames();
        var used = _m.EnvEntries.Select(e => e["name"]!.GetValue<string>()).ToList();

        Assert.Contains("NODE_NAME", reads);
        Assert.DoesNotContain(used, n => !reads.Contains(n));
        Assert.Equal(used.Count, used.Distinct().Count());
        Assert.Equal(["branch-eni-agent", "run"], [Path.GetFileName(_m.Command[0]), .. _m.Command.Skip(1)]);
    }

    [Fact]
    public void The_node_name_comes_from_the_pod_spec_and_the_required_settings_are_set()
    {
        var nodeName = _m.EnvEntries.Single(e => e["name"]!.GetValue<string>() == "NODE_NAME");
        Assert.Equal("spec.nodeName", nodeName["valueFrom"]!["fieldRef"]!["fieldPath"]!.GetValue<string>());
        Assert.Equal("true", _m.PlainEnv["ENABLE_POD_ENI"]);
        Assert.False(string.IsNullOrWhiteSpace(_m.PlainEnv["CLUSTER_NAME"]));
        // Every literal env value is a string (a number or bool would be refused by the API server).
        Assert.All(_m.EnvEntries.Where(e => e["value"] is not null), e => Assert.Equal(System.Text.Json.JsonValueKind.String, e["value"]!.GetValueKind()));
    }

    [Fact]
    public void It_runs_privileged_on_the_host_network_of_every_node_and_rolls_one_slice_at_a_time()
    {
        var spec = _m.PodSpec;
        Assert.True(spec["hostNetwork"]!.GetValue<bool>());
        Assert.Equal("Default", spec["dnsPolicy"]!.GetValue<string>());
        Assert.True(_m.Agent["securityContext"]!["privileged"]!.GetValue<bool>());
        var toleration = Assert.Single(spec["tolerations"]!.AsArray())!.AsObject();
        Assert.Equal("Exists", toleration["operator"]!.GetValue<string>());
        Assert.Single(toleration);
        var update = _m.DaemonSet["spec"]!["updateStrategy"]!;
        Assert.Equal("RollingUpdate", update["type"]!.GetValue<string>());
        Assert.NotNull(update["rollingUpdate"]!["maxUnavailable"]);
        Assert.NotNull(_m.Agent["resources"]!["requests"]!["cpu"]);
        Assert.NotNull(_m.Agent["resources"]!["requests"]!["memory"]);
        Assert.Equal(_m.DaemonSet["spec"]!["selector"]!["matchLabels"]!.ToJsonString(), _m.DaemonSet["spec"]!["template"]!["metadata"]!["labels"]!.ToJsonString());
    }

    [Fact]
    public void The_probes_target_the_agents_health_address()
    {
        var address = _m.PlainEnv["BRANCH_ENI_HEALTH_ADDRESS"].Split(':');
        foreach (var (probe, path) in new[] { ("readinessProbe", "/readyz"), ("livenessProbe", "/healthz") })
        {
            var get = _m.Agent[probe]!["httpGet"]!;
            Assert.Equal(address[0], get["host"]!.GetValue<string>());
            Assert.Equal(long.Parse(address[1], System.Globalization.CultureInfo.InvariantCulture), get["port"]!.GetValue<long>());
            Assert.Equal(path, get["path"]!.GetValue<string>());
        }
    }

    [Fact]
    public void Paths_written_into_the_conflist_are_the_same_inside_the_container_and_on_the_node()
    {
        // The CNI binary runs on the node and reads these paths from the conflist the agent writes.
        foreach (var name in new[] { "BRANCH_ENI_STATE_DIR", "AWS_VPC_K8S_PLUGIN_LOG_FILE" })
        {
            Assert.Equal(_m.PlainEnv[name], _m.NodePathOf(_m.PlainEnv[name]));
        }

        Assert.Equal("/run/branch-eni", _m.PlainEnv["BRANCH_ENI_STATE_DIR"]);
        Assert.Equal("/var/log/branch-eni", _m.NodePathOf("/var/log/branch-eni"));
        Assert.Equal("/opt/cni/bin", _m.NodePathOf(_m.PlainEnv["BRANCH_ENI_CNI_BIN_DIR"]));
        Assert.Equal("/etc/cni/net.d", _m.NodePathOf(_m.PlainEnv["BRANCH_ENI_CNI_CONF_DIR"]));
    }

    [Fact]
    public void Every_mount_has_its_volume_and_the_delegate_file_is_a_key_of_its_config_map()
    {
        var mounts = _m.Agent["volumeMounts"]!.AsArray().Select(m => m!["name"]!.GetValue<string>()).ToList();
        var volumes = _m.PodSpec["volumes"]!.AsArray().Select(v => v!["name"]!.GetValue<string>()).ToList();
        Assert.Equal(volumes.Order(), mounts.Order());

        var onNode = _m.NodePathOf(_m.PlainEnv["BRANCH_ENI_CNI_DELEGATE_FILE"])!;
        Assert.StartsWith("configmap:", onNode, StringComparison.Ordinal);
        var (name, key) = (onNode["configmap:".Length..].Split('/')[0], onNode.Split('/')[^1]);
        var delegateJson = JsonNode.Parse(_m.Get("ConfigMap", name)["data"]![key]!.GetValue<string>())!;
        Assert.False(string.IsNullOrEmpty(delegateJson["type"]?.GetValue<string>()));
    }

    [Fact]
    public void The_pod_runs_as_the_service_account_the_role_is_bound_to()
    {
        var account = _m.Get("ServiceAccount", _m.PodSpec["serviceAccountName"]!.GetValue<string>());
        var binding = _m.Get("ClusterRoleBinding", "branch-eni");
        var subject = Assert.Single(binding["subjects"]!.AsArray())!;
        Assert.Equal("ServiceAccount", subject["kind"]!.GetValue<string>());
        Assert.Equal(account["metadata"]!["name"]!.GetValue<string>(), subject["name"]!.GetValue<string>());
        Assert.Equal(account["metadata"]!["namespace"]!.GetValue<string>(), subject["namespace"]!.GetValue<string>());
        Assert.Equal(_m.DaemonSet["metadata"]!["namespace"]!.GetValue<string>(), subject["namespace"]!.GetValue<string>());
        Assert.Equal("ClusterRole", binding["roleRef"]!["kind"]!.GetValue<string>());
        _m.Get("ClusterRole", binding["roleRef"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public void The_example_overlay_changes_only_the_image_and_the_cluster_name()
    {
        var overlay = new Manifests(Yaml.Documents(Repo.Run("kubectl", "kustomize", Repo.PathOf("packaging", "examples", "overlay"))));
        Assert.Equal("prod", overlay.PlainEnv["CLUSTER_NAME"]);
        // The controller's cleanup needs the same name (it deletes only ENIs tagged for this cluster).
        Assert.Contains(overlay.Get("Deployment", "branch-eni-controller")["spec"]!["template"]!["spec"]!["containers"]![0]!["env"]!.AsArray(),
            e => e!["name"]!.GetValue<string>() == "CLUSTER_NAME" && e["value"]!.GetValue<string>() == "prod");
        Assert.Equal("123456789012.dkr.ecr.us-west-2.amazonaws.com/branch-eni:0.1.0", overlay.Agent["image"]!.GetValue<string>());
        Assert.Equal(_m.Objects.Select(Manifests.KeyOf).Order(), overlay.Objects.Select(Manifests.KeyOf).Order());
        // The strategic merge may reorder env entries; no value refers to another ($(VAR)), so order does not matter.
        Assert.Equal(_m.EnvEntries.Select(e => e["name"]!.GetValue<string>()).Order(), overlay.EnvEntries.Select(e => e["name"]!.GetValue<string>()).Order());
        Assert.Equal(_m.PlainEnv.Where(e => e.Key != "CLUSTER_NAME").OrderBy(e => e.Key), overlay.PlainEnv.Where(e => e.Key != "CLUSTER_NAME").OrderBy(e => e.Key));
    }
}
