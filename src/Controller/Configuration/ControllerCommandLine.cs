using System.CommandLine;
using BranchEni.Policy;

namespace BranchEni.Controller.Configuration;

/// <summary>The executable's commands: `run` is the controller process.</summary>
internal static class ControllerCommandLine
{
    public static RootCommand Build(Func<ControllerOptions, CancellationToken, Task<int>> run, Func<string, string?> env)
    {
        var kubeconfig = new Option<string>("--kubeconfig") { Description = "Kubeconfig file. Env: KUBECONFIG; unset: in-cluster configuration." };
        var address = new Option<string>("--webhook-address") { Description = "host:port the HTTPS webhooks listen on (default 0.0.0.0:9443)." };
        var service = new Option<string>("--webhook-service") { Description = "namespace/name of this controller's Service (in a cluster)." };
        var url = new Option<string>("--webhook-url") { Description = "https://host:port the API server calls (outside a cluster); the configurations get clientConfig.url." };
        var certFile = new Option<string>("--tls-cert-file") { Description = "Serving certificate (PEM), e.g. from cert-manager; unset: the controller's own CA." };
        var keyFile = new Option<string>("--tls-key-file") { Description = "Its private key (PEM)." };
        var health = new Option<string>("--health-address") { Description = "host:port for plain-HTTP /healthz, /readyz, /metrics (default 0.0.0.0:8081)." };
        var agents = new Option<string[]>("--agent-identity")
        {
            Description = $"A user allowed to write the pod-eni annotation (repeatable; default {ControllerOptions.DefaultAgentIdentity}).",
            AllowMultipleArgumentsPerToken = false,
        };
        var secret = new Option<string>("--tls-secret") { Description = "Secret holding the controller's CA and certificate (default branch-eni-controller-tls)." };
        var leaderElect = new Option<bool>("--leader-elect") { Description = "Take part in the Lease election (default true).", DefaultValueFactory = _ => true };
        var logLevel = new Option<string>("--log-level") { Description = "debug, info, warn or error (default info)." };
        var sgInterval = new Option<int?>("--sg-membership-interval")
        {
            Description = "Seconds between reads of security-group membership from EC2 for match-security-groups policies. Env: SG_MEMBERSHIP_INTERVAL_SECONDS (default 60).",
        };
        var ec2Endpoint = new Option<string>("--ec2-endpoint") { Description = "EC2 endpoint. Env: BRANCH_ENI_EC2_ENDPOINT; unset: the regional endpoint." };
        var region = new Option<string>("--region") { Description = "AWS region. Env: AWS_REGION; unset: the SDK's chain (profile, instance metadata)." };
        var sgAnnotation = new Option<string>("--enable-sg-annotation")
        {
            Description = "Honour the aws.tigera.io/security-groups pod annotation (default false; set as on the agents). Env: ENABLE_SG_ANNOTATION.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var ec2Adaptive = new Option<string>("--ec2-adaptive")
        {
            Description = "AIMD on each EC2 bucket: cut on throttling, grow on success (default true). Env: BRANCH_ENI_EC2_ADAPTIVE.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var ec2ActionQps = new Option<string>("--ec2-action-qps") { Description = "Per-bucket EC2 rate ceilings, e.g. describe=2. Env: BRANCH_ENI_EC2_ACTION_QPS." };
        var ec2ActionBurst = new Option<string>("--ec2-action-burst") { Description = "Per-bucket EC2 bursts, e.g. describe=5. Env: BRANCH_ENI_EC2_ACTION_BURST." };
        var sgNamespaces = new Option<string>("--sg-annotation-namespaces") { Description = "Comma-separated namespaces where it counts; empty: all. Env: SG_ANNOTATION_NAMESPACES." };
        var cleanup = CleanupOptions.Create();
        var command = new Command("run", "Serve the admission webhooks and take part in leader election.")
        {
            kubeconfig, address, service, url, certFile, keyFile, health, agents, secret, leaderElect, logLevel, sgAnnotation, sgNamespaces, sgInterval, ec2Endpoint, region,
            ec2Adaptive, ec2ActionQps, ec2ActionBurst,
            cleanup.ClusterName, cleanup.Enable, cleanup.Interval, cleanup.Cooldown,
        };
        command.SetAction((parse, token) =>
        {
            var defaults = new ControllerOptions();
            var enableText = parse.GetResult(sgAnnotation) is { Implicit: false } ? parse.GetValue(sgAnnotation) ?? "true" : env(SecurityGroupAnnotationSettings.EnableSetting);
            if (!TryParseBool(enableText, out var enable))
            {
                Console.Error.WriteLine($"branch-eni-controller: --enable-sg-annotation ({SecurityGroupAnnotationSettings.EnableSetting}) is '{enableText}'; use true or false");
                return Task.FromResult(2);
            }

            var adaptiveText = parse.GetResult(ec2Adaptive) is { Implicit: false } ? parse.GetValue(ec2Adaptive) ?? "true" : NonEmpty(env("BRANCH_ENI_EC2_ADAPTIVE")) ?? "true";
            if (!TryParseBool(adaptiveText, out var adaptive))
            {
                Console.Error.WriteLine($"branch-eni-controller: --ec2-adaptive (BRANCH_ENI_EC2_ADAPTIVE) is '{adaptiveText}'; use true or false");
                return Task.FromResult(2);
            }

            var intervalText = NonEmpty(env("SG_MEMBERSHIP_INTERVAL_SECONDS"));
            int? envInterval = int.TryParse(intervalText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds) ? seconds : null;
            if (intervalText is not null && envInterval is null)
            {
                Console.Error.WriteLine($"branch-eni-controller: SG_MEMBERSHIP_INTERVAL_SECONDS '{intervalText}' is not a whole number of seconds");
                return Task.FromResult(2);
            }

            var endpointText = parse.GetValue(ec2Endpoint) ?? NonEmpty(env("BRANCH_ENI_EC2_ENDPOINT"));
            if (endpointText is not null && !Uri.TryCreate(endpointText, UriKind.Absolute, out _))
            {
                Console.Error.WriteLine($"branch-eni-controller: BRANCH_ENI_EC2_ENDPOINT '{endpointText}' is not an absolute URL");
                return Task.FromResult(2);
            }

            if (cleanup.Read(parse, env, defaults) is not { } cleanupOptions)
            {
                return Task.FromResult(2);
            }

            var options = cleanupOptions with
            {
                Kubeconfig = parse.GetValue(kubeconfig) ?? NonEmpty(env("KUBECONFIG")),
                WebhookAddress = parse.GetValue(address) ?? defaults.WebhookAddress,
                WebhookService = parse.GetValue(service),
                WebhookUrl = parse.GetValue(url),
                TlsCertFile = parse.GetValue(certFile),
                TlsKeyFile = parse.GetValue(keyFile),
                HealthAddress = parse.GetValue(health) ?? defaults.HealthAddress,
                AgentIdentities = parse.GetValue(agents) is { Length: > 0 } given ? given : defaults.AgentIdentities,
                TlsSecretName = parse.GetValue(secret) ?? defaults.TlsSecretName,
                LeaderElect = parse.GetValue(leaderElect),
                LogLevel = parse.GetValue(logLevel) ?? defaults.LogLevel,
                PodNamespace = NonEmpty(env("POD_NAMESPACE")),
                PodName = NonEmpty(env("POD_NAME")),
                SgAnnotation = SecurityGroupAnnotationSettings.Of(enable,
                    parse.GetValue(sgNamespaces) ?? env(SecurityGroupAnnotationSettings.NamespacesSetting)),
                SgMembershipInterval = (parse.GetValue(sgInterval) ?? envInterval) is { } s ? TimeSpan.FromSeconds(s) : defaults.SgMembershipInterval,
                Ec2Endpoint = endpointText is null ? null : new Uri(endpointText),
                Region = parse.GetValue(region) ?? NonEmpty(env("AWS_REGION")),
                Ec2Adaptive = adaptive,
                Ec2ActionQps = parse.GetValue(ec2ActionQps) ?? NonEmpty(env("BRANCH_ENI_EC2_ACTION_QPS")),
                Ec2ActionBurst = parse.GetValue(ec2ActionBurst) ?? NonEmpty(env("BRANCH_ENI_EC2_ACTION_BURST")),
            };
            var problems = options.Validate();
            foreach (var problem in problems)
            {
                Console.Error.WriteLine($"branch-eni-controller: {problem}");
            }

            return problems.Count > 0 ? Task.FromResult(2) : run(options, token);
        });
        var root = new RootCommand("branch-eni-controller: admission webhooks and cluster-wide jobs for branch-eni");
        root.Subcommands.Add(command);
        return root;
    }

    internal static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    /// <summary>The agent's spelling of booleans (true/1/yes, false/0/no); unset is false.</summary>
    internal static bool TryParseBool(string? text, out bool value)
    {
        value = false;
        switch (text?.Trim().ToLowerInvariant())
        {
            case null or "" or "false" or "0" or "no":
                return true;
            case "true" or "1" or "yes":
                value = true;
                return true;
            default:
                return false;
        }
    }
}
