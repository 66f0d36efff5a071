using BranchEni.Agent.Configuration;
using BranchEni.Contracts;

namespace BranchEni.Agent.Tests.Configuration;

public sealed class AgentCommandLineTests
{
    private static async Task<(int Code, AgentOptions? Options)> Run(string[] args, params (string, string)[] env)
    {
        AgentOptions? seen = null;
        var map = env.ToDictionary(v => v.Item1, v => v.Item2);
        var root = AgentCommandLine.Build((o, _) =>
        {
            seen = o;
            return Task.FromResult(0);
        }, n => map.TryGetValue(n, out var v) ? v : null);
        var code = await root.Parse(args).InvokeAsync();
        return (code, seen);
    }

    [Fact]
    public async Task Flags_override_their_environment_variables()
    {
        var (code, o) = await Run(["run", "--node-name", "flag-node", "--enable-pod-eni", "--cooldown-seconds", "90", "--enforcing-mode", "standard"],
            ("NODE_NAME", "env-node"), ("CLUSTER_NAME", "env-cluster"), ("BRANCH_ENI_COOLDOWN_SECONDS", "40"));
        Assert.Equal(0, code);
        Assert.Equal("flag-node", o!.NodeName);
        Assert.Equal("env-cluster", o.ClusterName);
        Assert.True(o.EnablePodEni);
        Assert.Equal(90, o.CooldownSeconds);
        Assert.Equal(EnforcingMode.Standard, o.EnforcingMode);
    }

    [Fact]
    public async Task A_switch_takes_an_explicit_false()
    {
        var (_, o) = await Run(["run", "--enable-pod-eni", "false"], ("ENABLE_POD_ENI", "true"));
        Assert.False(o!.EnablePodEni);
    }

    [Fact]
    public async Task A_bad_flag_value_exits_2_without_running()
    {
        var (code, o) = await Run(["run", "--cooldown-seconds", "x"]);
        Assert.Equal(2, code);
        Assert.Null(o);
    }

    [Fact]
    public void Every_flag_mirrors_a_distinct_variable()
    {
        Assert.Equal(AgentCommandLine.Flags.Length, AgentCommandLine.Flags.Select(f => f.Env).Distinct().Count());
        Assert.Contains(AgentCommandLine.Flags, f => f.Env == "BRANCH_ENI_COOLDOWN_SECONDS");
        Assert.Contains(AgentCommandLine.Flags, f => f.Env == "AWS_EC2_METADATA_SERVICE_ENDPOINT");
    }
}
