using System.Net;
using BranchEni.Policy;

namespace BranchEni.Controller.Configuration;

/// <summary>`branch-eni-controller run`'s settings (DESIGN.md "Process contracts"), validated in one place.</summary>
internal sealed record ControllerOptions
{
    public const string DefaultAgentIdentity = "system:serviceaccount:kube-system:branch-eni";

    /// <summary>Kubeconfig file; null: the in-cluster service account.</summary>
    public string? Kubeconfig { get; init; }

    public string WebhookAddress { get; init; } = "0.0.0.0:9443";

    /// <summary>"ns/name" of the controller's Service (in a cluster).</summary>
    public string? WebhookService { get; init; }

    /// <summary>https://host:port the API server calls (outside a cluster).</summary>
    public string? WebhookUrl { get; init; }

    public string? TlsCertFile { get; init; }

    public string? TlsKeyFile { get; init; }

    /// <summary>Plain-HTTP /healthz, /readyz, /metrics for probes and scrapers (also served on the webhook port).</summary>
    public string HealthAddress { get; init; } = "0.0.0.0:8081";

    /// <summary>Users that may write the pod-eni annotation: the node agents' service accounts.</summary>
    public IReadOnlyList<string> AgentIdentities { get; init; } = [DefaultAgentIdentity];

    /// <summary>From --webhook-service's namespace, else POD_NAMESPACE, else kube-system.</summary>
    public string? PodNamespace { get; init; }

    public string? PodName { get; init; }

    public string TlsSecretName { get; init; } = "branch-eni-controller-tls";

    public string LeaseName { get; init; } = "branch-eni-controller";

    public bool LeaderElect { get; init; } = true;

    /// <summary>--enable-sg-annotation / ENABLE_SG_ANNOTATION and --sg-annotation-namespaces / SG_ANNOTATION_NAMESPACES:
    /// set as on the agents, so the webhooks and the agents agree on which annotated pods need a branch.</summary>
    public SecurityGroupAnnotationSettings SgAnnotation { get; init; } = SecurityGroupAnnotationSettings.Disabled;

    public string LogLevel { get; init; } = "info";

    /// <summary>How often the leader reads security-group membership from EC2 for companion NetworkPolicies.</summary>
    public TimeSpan SgMembershipInterval { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>BRANCH_ENI_EC2_ENDPOINT, as the agent's; null: the region's real endpoint.</summary>
    public Uri? Ec2Endpoint { get; init; }

    /// <summary>AWS_REGION; null: the SDK's own chain (profile, then the instance metadata service).</summary>
    public string? Region { get; init; }

    /// <summary>The controller's Describe bucket (refill per second, burst): a tenth of EC2's per-account 20/s refill,
    /// which the agents on every node share.</summary>
    public (double Rate, int Burst) Ec2DescribeBudget { get; init; } = (2, 5);

    /// <summary>--ec2-adaptive / BRANCH_ENI_EC2_ADAPTIVE, as the agent's: AIMD on each EC2 bucket (default true).</summary>
    public bool Ec2Adaptive { get; init; } = true;

    /// <summary>--ec2-action-qps / --ec2-action-burst (BRANCH_ENI_EC2_ACTION_QPS / _BURST), as the agent's: per-bucket
    /// ceilings and bursts over the controller's own budget, e.g. <c>describe=4</c>.</summary>
    public string? Ec2ActionQps { get; init; }

    public string? Ec2ActionBurst { get; init; }

    /// <summary>The controller's EC2 call discipline; <see cref="FormatException"/> for a malformed bucket list.</summary>
    public Aws.Ec2CallLimits Ec2Limits() =>
        new Aws.Ec2CallLimits
        {
            Buckets = new Dictionary<string, (double, int)>(StringComparer.Ordinal)
            {
                [Aws.Ec2CallLimits.DescribeBucket] = Ec2DescribeBudget,
                ["DeleteNetworkInterface"] = Ec2DeleteBudget,
            },
            Adaptive = Ec2Adaptive ? new Aws.AdaptiveSettings() : null,
        }.WithOverrides(Ec2ActionQps, Ec2ActionBurst, "--ec2-action-qps (BRANCH_ENI_EC2_ACTION_QPS)", "--ec2-action-burst (BRANCH_ENI_EC2_ACTION_BURST)");

    /// <summary>--cluster-name / CLUSTER_NAME, as on the agents: the cleanup deletes only ENIs tagged
    /// <c>kubernetes.io/cluster/&lt;name&gt;=owned</c>. Null: no cleanup.</summary>
    public string? ClusterName { get; init; }

    /// <summary>--eni-cleanup / ENI_CLEANUP: the leader's cluster-wide cleanup of ENIs whose instance or pod is gone.
    /// Null (unset): on when a cluster name is given; true without a cluster name is an error.</summary>
    public bool? EniCleanup { get; init; }

    /// <summary>Seconds between cleanup passes (--eni-cleanup-interval-seconds).</summary>
    public TimeSpan EniCleanupInterval { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long an ENI must stay garbage, seen on two passes at least this far apart, before the leader deletes
    /// it (--eni-cleanup-cooldown-seconds). Longer than the agents' own 60 s so an agent that is alive cleans its own
    /// instance's ENIs first.</summary>
    public TimeSpan EniCleanupCooldown { get; init; } = TimeSpan.FromSeconds(300);

    /// <summary>Whether this replica runs the cleanup job (when it leads).</summary>
    public bool EniCleanupEnabled => EniCleanup ?? ClusterName is not null;

    /// <summary>The controller's budget for DeleteNetworkInterface (refill per second, burst): a fifth of EC2's 5/s
    /// per-account refill, so a backlog after a dead node never starves the agents' own deletes.</summary>
    public (double Rate, int Burst) Ec2DeleteBudget { get; init; } = (1, 10);

    /// <summary>How long a membership answer stays in use while EC2 cannot be read (see CompanionReconciler).</summary>
    public TimeSpan SgMembershipMaxStaleness { get; init; } = TimeSpan.FromMinutes(10);

    // Test-only shortenings (not reachable from flags).
    public TimeSpan CertificateCheckInterval { get; init; } = TimeSpan.FromMinutes(1);

    public TimeSpan WatchIdleTimeout { get; init; } = TimeSpan.FromMinutes(5);

    public TimeSpan LeaseRetryPeriod { get; init; } = TimeSpan.FromSeconds(5);

    public string Namespace => WebhookService?.Split('/')[0] is { Length: > 0 } ns ? ns : PodNamespace is { Length: > 0 } pod ? pod : "kube-system";

    public IPEndPoint WebhookEndpoint => ParseEndpoint(WebhookAddress)!;

    public IPEndPoint HealthEndpoint => ParseEndpoint(HealthAddress)!;

    /// <summary>Every problem with the settings, worded for a person; empty when they are usable.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (ParseEndpoint(WebhookAddress) is null)
        {
            problems.Add($"--webhook-address '{WebhookAddress}' is not host:port with an IP address");
        }

        if (ParseEndpoint(HealthAddress) is null)
        {
            problems.Add($"--health-address '{HealthAddress}' is not host:port with an IP address");
        }

        if ((WebhookService is null) == (WebhookUrl is null))
        {
            problems.Add("give exactly one of --webhook-service ns/name (in a cluster) and --webhook-url https://host:port (outside one)");
        }

        if (WebhookService is not null && WebhookService.Split('/') is not [{ Length: > 0 }, { Length: > 0 }])
        {
            problems.Add($"--webhook-service '{WebhookService}' is not namespace/name");
        }

        if (WebhookUrl is not null && (!Uri.TryCreate(WebhookUrl, UriKind.Absolute, out var url) || url.Scheme != Uri.UriSchemeHttps))
        {
            problems.Add($"--webhook-url '{WebhookUrl}' is not an https:// URL");
        }

        if ((TlsCertFile is null) != (TlsKeyFile is null))
        {
            problems.Add("--tls-cert-file and --tls-key-file go together");
        }

        if (SgMembershipInterval < TimeSpan.FromSeconds(1) || SgMembershipInterval > TimeSpan.FromDays(1))
        {
            problems.Add($"--sg-membership-interval {SgMembershipInterval.TotalSeconds} s is not between 1 s and a day");
        }

        if (Ec2Endpoint is { } ec2 && ec2.Scheme != Uri.UriSchemeHttp && ec2.Scheme != Uri.UriSchemeHttps)
        {
            problems.Add($"BRANCH_ENI_EC2_ENDPOINT '{ec2}' is not an http(s) URL");
        }

        try
        {
            _ = Ec2Limits();
        }
        catch (FormatException e)
        {
            problems.Add(e.Message);
        }

        if (EniCleanup == true && ClusterName is null)
        {
            problems.Add("--eni-cleanup needs --cluster-name (CLUSTER_NAME): only ENIs tagged kubernetes.io/cluster/<name>=owned are cleaned up");
        }

        if (ClusterName is not null && (ClusterName.Length > 100 || ClusterName.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))))
        {
            problems.Add($"--cluster-name '{ClusterName}' is not a cluster name (letters, digits, '-', '_', '.'; at most 100)");
        }

        if (EniCleanupInterval < TimeSpan.FromSeconds(1) || EniCleanupInterval > TimeSpan.FromDays(1))
        {
            problems.Add($"--eni-cleanup-interval-seconds {EniCleanupInterval.TotalSeconds} is not between 1 and 86400");
        }

        if (EniCleanupCooldown < TimeSpan.FromSeconds(1) || EniCleanupCooldown > TimeSpan.FromDays(1))
        {
            problems.Add($"--eni-cleanup-cooldown-seconds {EniCleanupCooldown.TotalSeconds} is not between 1 and 86400");
        }

        if (AgentIdentities.Count == 0)
        {
            problems.Add("--agent-identity needs at least one user name");
        }

        return problems;
    }

    internal static IPEndPoint? ParseEndpoint(string address) =>
        IPEndPoint.TryParse(address, out var endpoint) && endpoint.Port != 0 ? endpoint : null;
}
