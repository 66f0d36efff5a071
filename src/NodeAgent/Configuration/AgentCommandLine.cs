using System.CommandLine;

namespace BranchEni.Agent.Configuration;

/// <summary>
/// The executable's commands. `run` is the daemon; its flags mirror the environment names one to one (a flag wins over
/// its variable), so the DaemonSet can use either. The node debug commands (status, pods, verify, cleanup) are added
/// as siblings of `run` through <see cref="Build"/>'s extra commands.
/// </summary>
internal static class AgentCommandLine
{
    /// <summary>Flag, environment variable it overrides, and whether it is a switch.</summary>
    internal static readonly (string Flag, string Env, bool IsSwitch, string Help)[] Flags =
    [
        ("--enable-pod-eni", "ENABLE_POD_ENI", true, "Manage the trunk and branch ENIs (default false, as in the AWS CNI)."),
        ("--enforcing-mode", "POD_SECURITY_GROUP_ENFORCING_MODE", false, "strict (default) or standard."),
        ("--disable-tcp-early-demux", "DISABLE_TCP_EARLY_DEMUX", true, "Set net.ipv4.tcp_early_demux=0 (kubelet probes to branch pods)."),
        ("--plugin-log-file", "AWS_VPC_K8S_PLUGIN_LOG_FILE", false, "The CNI's log file, written into the conflist."),
        ("--plugin-log-level", "AWS_VPC_K8S_PLUGIN_LOG_LEVEL", false, "The CNI's log level."),
        ("--log-level", "AWS_VPC_K8S_CNI_LOGLEVEL", false, "The agent's log level: debug, info, warn, error."),
        ("--cluster-name", "CLUSTER_NAME", false, "Cluster name for the kubernetes.io/cluster/<name> tag."),
        ("--cooldown-seconds", "BRANCH_ENI_COOLDOWN_SECONDS", false, "Seconds a released branch ENI waits before deletion (default 60, min 30)."),
        ("--node-name", "NODE_NAME", false, "This node's Kubernetes name."),
        ("--kubeconfig", "KUBECONFIG", false, "Kubeconfig file; unset: in-cluster configuration."),
        ("--imds-endpoint", "AWS_EC2_METADATA_SERVICE_ENDPOINT", false, "Instance metadata endpoint."),
        ("--ec2-endpoint", "BRANCH_ENI_EC2_ENDPOINT", false, "EC2 endpoint; unset: the regional endpoint."),
        ("--state-dir", "BRANCH_ENI_STATE_DIR", false, "Node-local records directory (default /run/branch-eni)."),
        ("--ec2-qps", "BRANCH_ENI_EC2_QPS", false, "Node-wide EC2 call rate cap (with --ec2-burst)."),
        ("--ec2-burst", "BRANCH_ENI_EC2_BURST", false, "Node-wide EC2 call burst (with --ec2-qps)."),
        ("--ec2-adaptive", "BRANCH_ENI_EC2_ADAPTIVE", true, "AIMD on each EC2 action bucket: cut on throttling, grow on success (default true)."),
        ("--ec2-action-qps", "BRANCH_ENI_EC2_ACTION_QPS", false, "Per-bucket EC2 rate ceilings, e.g. CreateNetworkInterface=5,describe=20."),
        ("--ec2-action-burst", "BRANCH_ENI_EC2_ACTION_BURST", false, "Per-bucket EC2 bursts, e.g. CreateNetworkInterface=100,mutating=50."),
        ("--instance-limits-file", "BRANCH_ENI_INSTANCE_LIMITS_FILE", false, "JSON merged over the built-in instance limits table."),
        ("--health-address", "BRANCH_ENI_HEALTH_ADDRESS", false, "Loopback host:port for /healthz, /readyz, /metrics."),
        ("--metrics-address", "BRANCH_ENI_METRICS_ADDRESS", false, "host:port serving only /metrics for scraping (default 0.0.0.0:61678; empty: off)."),
        ("--workers", "BRANCH_ENI_WORKERS", false, "Pods provisioned in parallel (default 8)."),
        ("--cni-bin-dir", "BRANCH_ENI_CNI_BIN_DIR", false, "Host CNI binary directory (default /opt/cni/bin; empty: do not install)."),
        ("--cni-conf-dir", "BRANCH_ENI_CNI_CONF_DIR", false, "Host CNI config directory (default /etc/cni/net.d; empty: do not install)."),
        ("--cni-binary", "BRANCH_ENI_CNI_BINARY", false, "The branch-eni binary to install."),
        ("--cni-delegate-file", "BRANCH_ENI_CNI_DELEGATE_FILE", false, "JSON plugin config for pods without a branch ENI."),
        ("--netns", "BRANCH_ENI_NETNS", false, "Network namespace holding the node's interfaces; unset: the agent's own."),
        ("--enable-sg-annotation", "ENABLE_SG_ANNOTATION", true, "Honour Calico's aws.tigera.io/security-groups pod annotation (default false)."),
        ("--sg-annotation-namespaces", "SG_ANNOTATION_NAMESPACES", false, "Comma-separated namespaces where the annotation counts; empty: all."),
        ("--default-pod-metadata-access", "DEFAULT_POD_METADATA_ACCESS", false, "Allowed or Denied for branch pods without the allow-metadata-access label; unset: Denied for annotated pods, Allowed otherwise."),
        ("--max-security-groups-per-eni", "MAX_SECURITY_GROUPS_PER_ENI", false, "EC2's security groups per ENI quota (default 5, at most 16)."),
    ];

    /// <summary>Builds the root command; <paramref name="run"/> receives the merged, not yet validated options.</summary>
    public static RootCommand Build(Func<AgentOptions, CancellationToken, Task<int>> run, Func<string, string?> env,
        params Command[] siblings)
    {
        var root = new RootCommand("branch-eni-agent: security groups for pods on this node (trunk and branch ENIs)");
        var runCommand = new Command("run", "Run the node agent (the DaemonSet process).");
        var options = new List<(Option<string> Option, string Env)>();
        foreach (var (flag, name, isSwitch, help) in Flags)
        {
            var option = new Option<string>(flag)
            {
                Description = $"{help} Env: {name}.",
                // A switch may be given bare (`--enable-pod-eni`) or with a value (`--enable-pod-eni false`).
                Arity = isSwitch ? ArgumentArity.ZeroOrOne : ArgumentArity.ExactlyOne,
            };
            runCommand.Options.Add(option);
            options.Add((option, name));
        }

        runCommand.SetAction((parse, token) =>
        {
            var flagged = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (option, name) in options)
            {
                var result = parse.GetResult(option);
                if (result is not null && !result.Implicit)
                {
                    flagged[name] = parse.GetValue(option) ?? "true";
                }
            }

            AgentOptions merged;
            try
            {
                merged = AgentOptions.FromEnvironment(name => flagged.TryGetValue(name, out var value) ? value : env(name));
            }
            catch (OptionsException e)
            {
                Console.Error.WriteLine($"branch-eni-agent: {e.Message}");
                return Task.FromResult(2);
            }

            return run(merged, token);
        });
        root.Subcommands.Add(runCommand);
        foreach (var sibling in siblings)
        {
            root.Subcommands.Add(sibling);
        }

        return root;
    }
}
