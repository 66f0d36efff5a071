using System.Globalization;
using BranchEni.Policy;

namespace BranchEni.Agent.Configuration;

/// <summary>How the CNI enforces a pod's security groups on the node (DESIGN.md §2, kernel layout).</summary>
internal enum EnforcingMode
{
    Strict,
    Standard,
}

/// <summary>
/// Everything `branch-eni-agent run` is configured with. Built from the environment (names shared with the AWS CNI
/// where the meaning is the same, DESIGN.md §2) and then overridden by flags; <see cref="Validate"/> refuses bad
/// values with the name the operator typed.
/// </summary>
internal sealed record AgentOptions
{
    public const int MinCooldownSeconds = 30;
    public const int DefaultCooldownSeconds = 60;

    /// <summary>ENABLE_POD_ENI: false (the AWS CNI default) means no trunk, no branches, capacity untouched.</summary>
    public bool EnablePodEni { get; init; }

    public EnforcingMode EnforcingMode { get; init; } = EnforcingMode.Strict;

    public bool DisableTcpEarlyDemux { get; init; }

    /// <summary>AWS_VPC_K8S_PLUGIN_LOG_FILE: written into the installed conflist as the CNI's `logFile`.</summary>
    public string PluginLogFile { get; init; } = "/var/log/branch-eni/plugin.log";

    /// <summary>AWS_VPC_K8S_PLUGIN_LOG_LEVEL: the CNI's `logLevel`.</summary>
    public string PluginLogLevel { get; init; } = "info";

    /// <summary>AWS_VPC_K8S_CNI_LOGLEVEL: the agent's own log level.</summary>
    public string LogLevel { get; init; } = "info";

    public string? ClusterName { get; init; }

    public int CooldownSeconds { get; init; } = DefaultCooldownSeconds;

    public string? NodeName { get; init; }

    /// <summary>KUBECONFIG; unset: in-cluster configuration.</summary>
    public string? Kubeconfig { get; init; }

    /// <summary>AWS_EC2_METADATA_SERVICE_ENDPOINT (the SDK's own variable).</summary>
    public Uri ImdsEndpoint { get; init; } = new("http://169.254.169.254");

    /// <summary>BRANCH_ENI_EC2_ENDPOINT; unset: the SDK's regional endpoint.</summary>
    public Uri? Ec2Endpoint { get; init; }

    public string StateDir { get; init; } = Contracts.NodeRecords.DefaultDirectory;

    /// <summary>BRANCH_ENI_EC2_QPS / _BURST: an extra node-wide cap on top of the per-action buckets; unset: none.</summary>
    public double? Ec2Qps { get; init; }

    public int? Ec2Burst { get; init; }

    /// <summary>BRANCH_ENI_EC2_ADAPTIVE: AIMD on each action bucket (default true), so the agents of a cluster share the
    /// account's EC2 budget; false: the fixed rates.</summary>
    public bool Ec2Adaptive { get; init; } = true;

    /// <summary>BRANCH_ENI_EC2_ACTION_QPS / _BURST: per-bucket ceilings and bursts over the defaults, e.g.
    /// <c>CreateNetworkInterface=2,describe=10</c>; unset: EC2's documented account buckets.</summary>
    public string? Ec2ActionQps { get; init; }

    public string? Ec2ActionBurst { get; init; }

    /// <summary>BRANCH_ENI_INSTANCE_LIMITS_FILE: JSON merged over the built-in limits table.</summary>
    public string? InstanceLimitsFile { get; init; }

    /// <summary>BRANCH_ENI_HEALTH_ADDRESS: loopback host:port for /healthz, /readyz and /metrics.</summary>
    public string HealthAddress { get; init; } = "127.0.0.1:61680";

    /// <summary>BRANCH_ENI_METRICS_ADDRESS: host:port serving only /metrics, for Prometheus to scrape (aws-node's
    /// 61678 on every address by default); set but empty: off.</summary>
    public string? MetricsAddress { get; init; } = "0.0.0.0:61678";

    public int Workers { get; init; } = 8;

    /// <summary>ENABLE_SG_ANNOTATION and SG_ANNOTATION_NAMESPACES: whether Calico's aws.tigera.io/security-groups
    /// annotation places pods in groups (off by default), and where.</summary>
    public SecurityGroupAnnotationSettings SgAnnotation { get; init; } = SecurityGroupAnnotationSettings.Disabled;

    /// <summary>DEFAULT_POD_METADATA_ACCESS: Allowed or Denied; unset: the rule's own default (MetadataAccessPolicy).</summary>
    public MetadataAccess? DefaultMetadataAccess { get; init; }

    /// <summary>MAX_SECURITY_GROUPS_PER_ENI: EC2's per-interface quota (default 5, raisable to 16 by AWS).</summary>
    public int MaxSecurityGroupsPerEni { get; init; } = DefaultMaxSecurityGroupsPerEni;

    public const int DefaultMaxSecurityGroupsPerEni = 5;

    /// <summary>BRANCH_ENI_CNI_BIN_DIR / _CONF_DIR: where the CNI binary and conflist go once healthy; unset conf dir: no install.</summary>
    public string? CniBinDir { get; init; } = "/opt/cni/bin";

    public string? CniConfDir { get; init; } = "/etc/cni/net.d";

    /// <summary>BRANCH_ENI_CNI_BINARY: the branch-eni binary shipped next to the agent.</summary>
    public string CniBinary { get; init; } = Path.Combine(AppContext.BaseDirectory, "branch-eni");

    /// <summary>BRANCH_ENI_CNI_DELEGATE_FILE: JSON plugin config the CNI runs for pods without a branch ENI.</summary>
    public string? CniDelegateFile { get; init; }

    /// <summary>BRANCH_ENI_NETNS: the network namespace holding the node's interfaces; unset: the agent's own.</summary>
    public string? NetworkNamespace { get; init; }

    /// <summary>The cooldown the agent uses. Tests shorten it through <see cref="TestCooldownOverride"/>, which no
    /// environment variable or flag can reach: the operator-facing minimum stays 30 s.</summary>
    public TimeSpan Cooldown => TestCooldownOverride ?? TimeSpan.FromSeconds(CooldownSeconds);

    internal TimeSpan? TestCooldownOverride { get; init; }

    /// <summary>How often leaked ENIs are looked for (an ENI must be seen available on two passes).</summary>
    internal TimeSpan GcInterval { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>A watch that has delivered nothing (not even a bookmark) for this long is restarted.</summary>
    internal TimeSpan WatchIdleTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How long to wait for the trunk's link to appear on the node after attachment.</summary>
    internal TimeSpan TrunkLinkWait { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Reads the environment. Malformed values are refused here, naming the variable.</summary>
    public static AgentOptions FromEnvironment(Func<string, string?> env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var o = new AgentOptions();
        return o with
        {
            EnablePodEni = Bool(env, "ENABLE_POD_ENI") ?? o.EnablePodEni,
            EnforcingMode = Mode(env("POD_SECURITY_GROUP_ENFORCING_MODE"), "POD_SECURITY_GROUP_ENFORCING_MODE") ?? o.EnforcingMode,
            DisableTcpEarlyDemux = Bool(env, "DISABLE_TCP_EARLY_DEMUX") ?? o.DisableTcpEarlyDemux,
            PluginLogFile = NonEmpty(env("AWS_VPC_K8S_PLUGIN_LOG_FILE")) ?? o.PluginLogFile,
            PluginLogLevel = NonEmpty(env("AWS_VPC_K8S_PLUGIN_LOG_LEVEL"))?.ToLowerInvariant() ?? o.PluginLogLevel,
            LogLevel = NonEmpty(env("AWS_VPC_K8S_CNI_LOGLEVEL"))?.ToLowerInvariant() ?? o.LogLevel,
            ClusterName = NonEmpty(env("CLUSTER_NAME")),
            CooldownSeconds = Int(env, "BRANCH_ENI_COOLDOWN_SECONDS") ?? o.CooldownSeconds,
            NodeName = NonEmpty(env("NODE_NAME")),
            Kubeconfig = NonEmpty(env("KUBECONFIG")),
            ImdsEndpoint = Url(env, "AWS_EC2_METADATA_SERVICE_ENDPOINT") ?? o.ImdsEndpoint,
            Ec2Endpoint = Url(env, "BRANCH_ENI_EC2_ENDPOINT"),
            StateDir = NonEmpty(env("BRANCH_ENI_STATE_DIR")) ?? o.StateDir,
            Ec2Qps = Double(env, "BRANCH_ENI_EC2_QPS"),
            Ec2Burst = Int(env, "BRANCH_ENI_EC2_BURST"),
            Ec2Adaptive = Bool(env, "BRANCH_ENI_EC2_ADAPTIVE") ?? o.Ec2Adaptive,
            Ec2ActionQps = NonEmpty(env("BRANCH_ENI_EC2_ACTION_QPS")),
            Ec2ActionBurst = NonEmpty(env("BRANCH_ENI_EC2_ACTION_BURST")),
            InstanceLimitsFile = NonEmpty(env("BRANCH_ENI_INSTANCE_LIMITS_FILE")),
            HealthAddress = NonEmpty(env("BRANCH_ENI_HEALTH_ADDRESS")) ?? o.HealthAddress,
            MetricsAddress = EnvOrDefault(env, "BRANCH_ENI_METRICS_ADDRESS", o.MetricsAddress),
            Workers = Int(env, "BRANCH_ENI_WORKERS") ?? o.Workers,
            CniBinDir = EnvOrDefault(env, "BRANCH_ENI_CNI_BIN_DIR", o.CniBinDir),
            CniConfDir = EnvOrDefault(env, "BRANCH_ENI_CNI_CONF_DIR", o.CniConfDir),
            CniBinary = NonEmpty(env("BRANCH_ENI_CNI_BINARY")) ?? o.CniBinary,
            CniDelegateFile = NonEmpty(env("BRANCH_ENI_CNI_DELEGATE_FILE")),
            NetworkNamespace = NonEmpty(env("BRANCH_ENI_NETNS")),
            SgAnnotation = SecurityGroupAnnotationSettings.Of(Bool(env, SecurityGroupAnnotationSettings.EnableSetting) ?? false,
                env(SecurityGroupAnnotationSettings.NamespacesSetting)),
            DefaultMetadataAccess = MetadataAccessPolicy.TryParseSetting(env(MetadataAccessPolicy.DefaultSetting), out var access) ? access
                : throw new OptionsException($"{MetadataAccessPolicy.DefaultSetting} is '{env(MetadataAccessPolicy.DefaultSetting)}'; use Denied or Allowed (or leave it unset)"),
            MaxSecurityGroupsPerEni = Int(env, "MAX_SECURITY_GROUPS_PER_ENI") ?? o.MaxSecurityGroupsPerEni,
        };
    }

    /// <summary>The EC2 call discipline these options ask for; <see cref="FormatException"/> for a malformed bucket list.</summary>
    public Aws.Ec2CallLimits Ec2Limits() =>
        new Aws.Ec2CallLimits
        {
            NodeWide = Ec2Qps is { } qps && Ec2Burst is { } burst ? (qps, burst) : null,
            Adaptive = Ec2Adaptive ? new Aws.AdaptiveSettings() : null,
        }.WithOverrides(Ec2ActionQps, Ec2ActionBurst, "BRANCH_ENI_EC2_ACTION_QPS", "BRANCH_ENI_EC2_ACTION_BURST");

    /// <summary>The problems that stop `run`, each naming the variable and flag; empty when the options are usable.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (NodeName is null)
        {
            problems.Add("NODE_NAME (--node-name) is required: the agent works on its own node");
        }

        if (EnablePodEni && ClusterName is null)
        {
            problems.Add("CLUSTER_NAME (--cluster-name) is required: it tags every ENI the agent creates");
        }

        if (CooldownSeconds < MinCooldownSeconds)
        {
            problems.Add($"BRANCH_ENI_COOLDOWN_SECONDS (--cooldown-seconds) is {CooldownSeconds}; the minimum is {MinCooldownSeconds}");
        }

        if (Ec2Qps is <= 0 || Ec2Burst is < 1 || (Ec2Qps is null) != (Ec2Burst is null))
        {
            problems.Add("BRANCH_ENI_EC2_QPS and BRANCH_ENI_EC2_BURST (--ec2-qps, --ec2-burst) go together: qps > 0, burst >= 1");
        }

        try
        {
            _ = Ec2Limits();
        }
        catch (FormatException e)
        {
            problems.Add($"{e.Message} (--ec2-action-qps, --ec2-action-burst)");
        }

        if (Workers is < 1 or > 64)
        {
            problems.Add($"BRANCH_ENI_WORKERS (--workers) is {Workers}; use 1..64");
        }

        if (MaxSecurityGroupsPerEni is < 1 or > 16)
        {
            problems.Add($"MAX_SECURITY_GROUPS_PER_ENI (--max-security-groups-per-eni) is {MaxSecurityGroupsPerEni}; EC2 allows 1..16 (default 5)");
        }

        if (!LogLevels.Contains(LogLevel) || !LogLevels.Contains(PluginLogLevel))
        {
            problems.Add($"log levels must be one of {string.Join(", ", LogLevels)} (AWS_VPC_K8S_CNI_LOGLEVEL, AWS_VPC_K8S_PLUGIN_LOG_LEVEL)");
        }

        if (!TryParseLoopback(HealthAddress, out _))
        {
            problems.Add($"BRANCH_ENI_HEALTH_ADDRESS (--health-address) '{HealthAddress}' is not a loopback host:port such as 127.0.0.1:61680");
        }

        if (MetricsAddress is not null && (!System.Net.IPEndPoint.TryParse(MetricsAddress, out var metrics) || metrics.Port == 0))
        {
            problems.Add($"BRANCH_ENI_METRICS_ADDRESS (--metrics-address) '{MetricsAddress}' is not a host:port such as 0.0.0.0:61678 (empty: off)");
        }

        return problems;
    }

    internal static readonly string[] LogLevels = ["debug", "info", "warn", "error"];

    internal static bool TryParseLoopback(string text, out System.Net.IPEndPoint endpoint)
    {
        endpoint = null!;
        if (!System.Net.IPEndPoint.TryParse(text, out var parsed) || !System.Net.IPAddress.IsLoopback(parsed.Address) || parsed.Port == 0)
        {
            return false;
        }

        endpoint = parsed;
        return true;
    }

    internal static EnforcingMode? Mode(string? text, string name) => NonEmpty(text)?.ToLowerInvariant() switch
    {
        null => null,
        "strict" => EnforcingMode.Strict,
        "standard" => EnforcingMode.Standard,
        _ => throw new OptionsException($"{name} is '{text}'; use strict or standard"),
    };

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static string? EnvOrDefault(Func<string, string?> env, string name, string? fallback)
    {
        // Set but empty is how an operator turns an install directory off.
        var value = env(name);
        return value is null ? fallback : NonEmpty(value);
    }

    private static bool? Bool(Func<string, string?> env, string name) => NonEmpty(env(name))?.ToLowerInvariant() switch
    {
        null => null,
        "true" or "1" or "yes" => true,
        "false" or "0" or "no" => false,
        var other => throw new OptionsException($"{name} is '{other}'; use true or false"),
    };

    private static int? Int(Func<string, string?> env, string name)
    {
        var text = NonEmpty(env(name));
        if (text is null)
        {
            return null;
        }

        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new OptionsException($"{name} is '{text}'; expected a whole number");
    }

    private static double? Double(Func<string, string?> env, string name)
    {
        var text = NonEmpty(env(name));
        if (text is null)
        {
            return null;
        }

        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new OptionsException($"{name} is '{text}'; expected a number");
    }

    private static Uri? Url(Func<string, string?> env, string name)
    {
        var text = NonEmpty(env(name));
        if (text is null)
        {
            return null;
        }

        return Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            ? uri
            : throw new OptionsException($"{name} is '{text}'; expected an http(s) URL");
    }
}

/// <summary>A configuration value is malformed; the message names the variable or flag.</summary>
internal sealed class OptionsException(string message) : Exception(message);
