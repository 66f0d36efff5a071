using BranchEni.Agent.Configuration;

namespace BranchEni.Agent.Tests.Configuration;

public sealed class AgentOptionsTests
{
    private static AgentOptions From(params (string Name, string Value)[] vars)
    {
        var map = vars.ToDictionary(v => v.Name, v => v.Value);
        return AgentOptions.FromEnvironment(n => map.TryGetValue(n, out var v) ? v : null);
    }

    [Fact]
    public void Defaults_follow_the_design()
    {
        var o = From();
        Assert.False(o.EnablePodEni);
        Assert.Equal(EnforcingMode.Strict, o.EnforcingMode);
        Assert.Equal(60, o.CooldownSeconds);
        Assert.Equal(TimeSpan.FromSeconds(60), o.Cooldown);
        Assert.Equal("/run/branch-eni", o.StateDir);
        Assert.Equal(new Uri("http://169.254.169.254"), o.ImdsEndpoint);
        Assert.Null(o.Ec2Endpoint);
        Assert.Contains("NODE_NAME (--node-name) is required: the agent works on its own node", o.Validate());
    }

    [Fact]
    public void The_issue_19_settings_are_off_or_unset_by_default_and_read_when_given()
    {
        var o = From();
        Assert.False(o.SgAnnotation.Enabled);
        Assert.Null(o.DefaultMetadataAccess);
        Assert.Equal(5, o.MaxSecurityGroupsPerEni);

        var set = From(("ENABLE_SG_ANNOTATION", "true"), ("SG_ANNOTATION_NAMESPACES", "web,db"), ("DEFAULT_POD_METADATA_ACCESS", "denied"),
            ("MAX_SECURITY_GROUPS_PER_ENI", "16"));
        Assert.True(set.SgAnnotation.AppliesTo("web"));
        Assert.False(set.SgAnnotation.AppliesTo("app"));
        Assert.Equal(BranchEni.Policy.MetadataAccess.Denied, set.DefaultMetadataAccess);
        Assert.Equal(16, set.MaxSecurityGroupsPerEni);

        var e = Assert.Throws<OptionsException>(() => From(("DEFAULT_POD_METADATA_ACCESS", "sometimes")));
        Assert.Contains("DEFAULT_POD_METADATA_ACCESS is 'sometimes'; use Denied or Allowed", e.Message, StringComparison.Ordinal);
        Assert.Contains(From(("MAX_SECURITY_GROUPS_PER_ENI", "17")).Validate(), p => p.StartsWith("MAX_SECURITY_GROUPS_PER_ENI", StringComparison.Ordinal));
    }

    [Fact]
    public void Every_design_variable_is_read()
    {
        var o = From(("ENABLE_POD_ENI", "true"), ("POD_SECURITY_GROUP_ENFORCING_MODE", "standard"), ("DISABLE_TCP_EARLY_DEMUX", "true"),
            ("AWS_VPC_K8S_PLUGIN_LOG_FILE", "/tmp/p.log"), ("AWS_VPC_K8S_PLUGIN_LOG_LEVEL", "DEBUG"), ("CLUSTER_NAME", "c1"),
            ("BRANCH_ENI_COOLDOWN_SECONDS", "45"), ("NODE_NAME", "n1"), ("KUBECONFIG", "/k"), ("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:9"),
            ("BRANCH_ENI_EC2_ENDPOINT", "http://127.0.0.1:8"), ("BRANCH_ENI_STATE_DIR", "/tmp/s"), ("BRANCH_ENI_CNI_CONF_DIR", ""));
        Assert.True(o.EnablePodEni);
        Assert.Equal(EnforcingMode.Standard, o.EnforcingMode);
        Assert.True(o.DisableTcpEarlyDemux);
        Assert.Equal("/tmp/p.log", o.PluginLogFile);
        Assert.Equal("debug", o.PluginLogLevel);
        Assert.Equal("c1", o.ClusterName);
        Assert.Equal(45, o.CooldownSeconds);
        Assert.Equal("n1", o.NodeName);
        Assert.Equal("/k", o.Kubeconfig);
        Assert.Equal(9, o.ImdsEndpoint.Port);
        Assert.Equal(8, o.Ec2Endpoint!.Port);
        Assert.Equal("/tmp/s", o.StateDir);
        Assert.Null(o.CniConfDir);
        Assert.Empty(o.Validate());
    }

    [Theory]
    [InlineData("BRANCH_ENI_COOLDOWN_SECONDS", "soon", "BRANCH_ENI_COOLDOWN_SECONDS is 'soon'; expected a whole number")]
    [InlineData("ENABLE_POD_ENI", "maybe", "ENABLE_POD_ENI is 'maybe'; use true or false")]
    [InlineData("POD_SECURITY_GROUP_ENFORCING_MODE", "loose", "POD_SECURITY_GROUP_ENFORCING_MODE is 'loose'; use strict or standard")]
    [InlineData("BRANCH_ENI_EC2_ENDPOINT", "ftp://x", "BRANCH_ENI_EC2_ENDPOINT is 'ftp://x'; expected an http(s) URL")]
    public void Malformed_values_are_refused_naming_the_variable(string name, string value, string message)
    {
        var e = Assert.Throws<OptionsException>(() => From((name, value)));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void Cooldown_below_thirty_seconds_is_refused_and_the_test_override_is_not_reachable_from_env()
    {
        var o = From(("NODE_NAME", "n"), ("BRANCH_ENI_COOLDOWN_SECONDS", "29"));
        Assert.Contains("BRANCH_ENI_COOLDOWN_SECONDS (--cooldown-seconds) is 29; the minimum is 30", o.Validate());
        Assert.Null(o.TestCooldownOverride);
        var shortened = o with { CooldownSeconds = 30, TestCooldownOverride = TimeSpan.FromMilliseconds(200) };
        Assert.Empty(shortened.Validate());
        Assert.Equal(TimeSpan.FromMilliseconds(200), shortened.Cooldown);
    }

    [Fact]
    public void Pod_eni_needs_a_cluster_name_and_qps_needs_a_burst()
    {
        var o = From(("NODE_NAME", "n"), ("ENABLE_POD_ENI", "true"), ("BRANCH_ENI_EC2_QPS", "5"));
        var problems = o.Validate();
        Assert.Contains(problems, p => p.StartsWith("CLUSTER_NAME", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("BRANCH_ENI_EC2_QPS and BRANCH_ENI_EC2_BURST", StringComparison.Ordinal));
    }

    [Fact]
    public void Health_address_must_be_loopback()
    {
        var o = From(("NODE_NAME", "n"), ("BRANCH_ENI_HEALTH_ADDRESS", "0.0.0.0:80"));
        Assert.Contains(o.Validate(), p => p.Contains("is not a loopback host:port", StringComparison.Ordinal));
    }

    [Fact]
    public void Ec2_rates_are_adaptive_by_default_with_per_bucket_ceilings()
    {
        var limits = From(("NODE_NAME", "n"), ("BRANCH_ENI_EC2_ACTION_QPS", "CreateNetworkInterface=2"), ("BRANCH_ENI_EC2_ACTION_BURST", "CreateNetworkInterface=10")).Ec2Limits();
        Assert.NotNull(limits.Adaptive);
        Assert.Equal((2d, 10), limits.Buckets["CreateNetworkInterface"]);
        Assert.Null(From(("BRANCH_ENI_EC2_ADAPTIVE", "false")).Ec2Limits().Adaptive);
        var problems = From(("NODE_NAME", "n"), ("BRANCH_ENI_EC2_ACTION_QPS", "create=2")).Validate();
        Assert.Contains(problems, p => p.StartsWith("BRANCH_ENI_EC2_ACTION_QPS: 'create=2' is not bucket=value", StringComparison.Ordinal));
    }
}
