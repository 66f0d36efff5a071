using BranchEni.Controller.Configuration;

namespace BranchEni.Controller.Tests;

/// <summary>`run`'s settings: the process contract's flags, their checks and where the namespace comes from.</summary>
public sealed class ControllerOptionsTests
{
    private static async Task<(int Code, ControllerOptions? Options)> ParseAsync(Dictionary<string, string>? env, params string[] args)
    {
        ControllerOptions? seen = null;
        var root = ControllerCommandLine.Build((o, _) =>
        {
            seen = o;
            return Task.FromResult(0);
        }, name => env is not null && env.TryGetValue(name, out var v) ? v : null);
        var parse = root.Parse(["run", .. args]);
        var code = await parse.InvokeAsync();
        return (parse.Errors.Count > 0 ? 2 : code, seen);
    }

    [Fact]
    public async Task The_contracts_flags_and_kubeconfig_from_the_environment()
    {
        var (code, options) = await ParseAsync(new() { ["KUBECONFIG"] = "/k", ["POD_NAMESPACE"] = "branch-eni" },
            "--webhook-url", "https://127.0.0.1:9555", "--webhook-address", "127.0.0.1:9555", "--agent-identity", "a", "--agent-identity", "b");
        Assert.Equal(0, code);
        Assert.Equal("/k", options!.Kubeconfig);
        Assert.Equal(9555, options.WebhookEndpoint.Port);
        Assert.Equal(["a", "b"], options.AgentIdentities);
        Assert.Equal("branch-eni", options.Namespace);
        Assert.True(options.LeaderElect);
    }

    [Fact]
    public async Task The_sg_annotation_settings_mirror_the_agents()
    {
        var (_, off) = await ParseAsync(null, "--webhook-service", "a/b");
        Assert.False(off!.SgAnnotation.Enabled);
        var (_, fromEnv) = await ParseAsync(new() { ["ENABLE_SG_ANNOTATION"] = "true", ["SG_ANNOTATION_NAMESPACES"] = "web, db" }, "--webhook-service", "a/b");
        Assert.True(fromEnv!.SgAnnotation.AppliesTo("db"));
        Assert.False(fromEnv.SgAnnotation.AppliesTo("app"));
        var (_, fromFlag) = await ParseAsync(new() { ["ENABLE_SG_ANNOTATION"] = "false" }, "--webhook-service", "a/b", "--enable-sg-annotation");
        Assert.True(fromFlag!.SgAnnotation.AppliesTo("anything"));
        var (code, bad) = await ParseAsync(new() { ["ENABLE_SG_ANNOTATION"] = "maybe" }, "--webhook-service", "a/b");
        Assert.Equal(2, code);
        Assert.Null(bad);
    }

    [Fact]
    public async Task Defaults_and_the_namespace_from_the_service()
    {
        var (_, options) = await ParseAsync(null, "--webhook-service", "networking/branch-eni-controller");
        Assert.Null(options!.Kubeconfig);
        Assert.Equal("0.0.0.0:9443", options.WebhookAddress);
        Assert.Equal("networking", options.Namespace);
        Assert.Equal([ControllerOptions.DefaultAgentIdentity], options.AgentIdentities);
        Assert.Equal("kube-system", new ControllerOptions { WebhookUrl = "https://h:1" }.Namespace);
    }

    [Theory]
    [InlineData("exactly one of --webhook-service", new string[0])]
    [InlineData("exactly one of --webhook-service", new[] { "--webhook-service", "a/b", "--webhook-url", "https://h:1" })]
    [InlineData("is not an https:// URL", new[] { "--webhook-url", "http://h:1" })]
    [InlineData("is not namespace/name", new[] { "--webhook-service", "b" })]
    [InlineData("go together", new[] { "--webhook-service", "a/b", "--tls-cert-file", "/c" })]
    [InlineData("is not host:port", new[] { "--webhook-service", "a/b", "--webhook-address", "localhost:1" })]
    public async Task Bad_settings_are_a_usage_error_naming_the_problem(string problem, string[] args)
    {
        var error = new StringWriter();
        var previous = Console.Error;
        Console.SetError(error);
        try
        {
            var (code, options) = await ParseAsync(null, args);
            Assert.Equal(2, code);
            Assert.Null(options);
        }
        finally
        {
            Console.SetError(previous);
        }

        Assert.Contains(problem, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Security_group_membership_settings_come_from_flags_else_the_environment()
    {
        var env = new Dictionary<string, string>
        {
            ["SG_MEMBERSHIP_INTERVAL_SECONDS"] = "30", ["BRANCH_ENI_EC2_ENDPOINT"] = "http://127.0.0.1:4566", ["AWS_REGION"] = "eu-west-1",
        };
        var (code, options) = await ParseAsync(env, "--webhook-service", "kube-system/c");
        Assert.Equal(0, code);
        Assert.Equal(TimeSpan.FromSeconds(30), options!.SgMembershipInterval);
        Assert.Equal(new Uri("http://127.0.0.1:4566"), options.Ec2Endpoint);
        Assert.Equal("eu-west-1", options.Region);

        (_, options) = await ParseAsync(env, "--webhook-service", "kube-system/c", "--sg-membership-interval", "5", "--region", "us-east-2");
        Assert.Equal((TimeSpan.FromSeconds(5), "us-east-2"), (options!.SgMembershipInterval, options.Region));

        (_, options) = await ParseAsync(null, "--webhook-service", "kube-system/c");
        Assert.Equal((TimeSpan.FromSeconds(60), null, null), (options!.SgMembershipInterval, options.Ec2Endpoint, options.Region));
    }

    [Theory]
    [InlineData("SG_MEMBERSHIP_INTERVAL_SECONDS", "a minute")]
    [InlineData("SG_MEMBERSHIP_INTERVAL_SECONDS", "0")]
    [InlineData("BRANCH_ENI_EC2_ENDPOINT", "not a url")]
    [InlineData("BRANCH_ENI_EC2_ENDPOINT", "ftp://127.0.0.1")]
    [InlineData("BRANCH_ENI_EC2_ADAPTIVE", "maybe")]
    [InlineData("BRANCH_ENI_EC2_ACTION_QPS", "describe=fast")]
    [InlineData("BRANCH_ENI_EC2_ACTION_BURST", "nosuchbucket=3")]
    public async Task A_bad_membership_setting_is_refused_and_nothing_runs(string name, string value)
    {
        var (code, options) = await ParseAsync(new() { [name] = value }, "--webhook-service", "kube-system/c");
        Assert.Equal(2, code);
        Assert.Null(options);
    }

    [Fact]
    public async Task Eni_cleanup_is_on_with_a_cluster_name_and_takes_its_periods_from_flags_or_the_environment()
    {
        var (_, off) = await ParseAsync(null, "--webhook-service", "kube-system/c");
        Assert.False(off!.EniCleanupEnabled);

        var (code, options) = await ParseAsync(new() { ["CLUSTER_NAME"] = "prod", ["ENI_CLEANUP_COOLDOWN_SECONDS"] = "20" }, "--webhook-service", "kube-system/c");
        Assert.Equal(0, code);
        Assert.Equal(("prod", true, TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(20)),
            (options!.ClusterName, options.EniCleanupEnabled, options.EniCleanupInterval, options.EniCleanupCooldown));

        (_, options) = await ParseAsync(new() { ["ENI_CLEANUP_INTERVAL_SECONDS"] = "9" }, "--webhook-service", "kube-system/c", "--cluster-name", "soak",
            "--eni-cleanup-interval-seconds", "2", "--eni-cleanup-cooldown-seconds", "5");
        Assert.Equal((TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5)), (options!.EniCleanupInterval, options.EniCleanupCooldown));
        Assert.Equal(TimeSpan.FromSeconds(300), new ControllerOptions().EniCleanupCooldown);

        (_, options) = await ParseAsync(new() { ["CLUSTER_NAME"] = "prod" }, "--webhook-service", "kube-system/c", "--eni-cleanup=false");
        Assert.False(options!.EniCleanupEnabled);
        (_, options) = await ParseAsync(new() { ["CLUSTER_NAME"] = "prod", ["ENI_CLEANUP"] = "false" }, "--webhook-service", "kube-system/c");
        Assert.False(options!.EniCleanupEnabled);
    }

    [Theory]
    [InlineData("ENI_CLEANUP", "true")] // asked for, but without a cluster name it could not tell our ENIs
    [InlineData("ENI_CLEANUP", "sometimes")]
    [InlineData("ENI_CLEANUP_COOLDOWN_SECONDS", "five minutes")]
    [InlineData("ENI_CLEANUP_COOLDOWN_SECONDS", "0")]
    [InlineData("ENI_CLEANUP_INTERVAL_SECONDS", "0")]
    [InlineData("CLUSTER_NAME", "no/slashes")]
    public async Task A_bad_cleanup_setting_is_refused_and_nothing_runs(string name, string value)
    {
        var (code, options) = await ParseAsync(new() { [name] = value }, "--webhook-service", "kube-system/c");
        Assert.Equal(2, code);
        Assert.Null(options);
    }

    [Fact]
    public async Task Ec2_rates_are_adaptive_by_default_and_ceilings_come_from_flags_else_the_environment()
    {
        var (code, options) = await ParseAsync(new() { ["BRANCH_ENI_EC2_ACTION_QPS"] = "describe=4" }, "--webhook-service", "kube-system/c");
        Assert.Equal(0, code);
        var limits = options!.Ec2Limits();
        Assert.NotNull(limits.Adaptive);
        Assert.Equal((4d, 5), limits.Buckets[BranchEni.Aws.Ec2CallLimits.DescribeBucket]);

        (_, options) = await ParseAsync(new() { ["BRANCH_ENI_EC2_ACTION_QPS"] = "describe=4" }, "--webhook-service", "kube-system/c",
            "--ec2-action-qps", "describe=1", "--ec2-adaptive", "false");
        Assert.Null(options!.Ec2Limits().Adaptive);
        Assert.Equal(1, options.Ec2Limits().Buckets[BranchEni.Aws.Ec2CallLimits.DescribeBucket].Rate);
    }
}
