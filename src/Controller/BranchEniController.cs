using System.Net;
using Amazon.EC2;
using BranchEni.Aws;
using BranchEni.Controller.Admission;
using BranchEni.Controller.Cleanup;
using BranchEni.Controller.Companions;
using BranchEni.Controller.Configuration;
using BranchEni.Controller.Election;
using BranchEni.Controller.Kubernetes;
using BranchEni.Controller.Observability;
using BranchEni.Controller.Tls;
using BranchEni.Kube;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Serilog;

namespace BranchEni.Controller;

/// <summary>
/// One controller replica: the informer caches, the webhook certificate keeper, the Lease elector and the Kestrel
/// host serving the webhooks (HTTPS) and /healthz, /readyz, /metrics (on both listeners). Tests run it in process.
/// </summary>
internal sealed class BranchEniController
{
    private readonly ControllerOptions _options;
    private readonly KubeConnection _kube;
    private readonly Serilog.ILogger _log;
    private readonly Lazy<(IAmazonEC2 Client, Ec2CallPolicy Policy)> _ec2;

    public BranchEniController(ControllerOptions options, KubeConnection kube, Serilog.ILogger log)
    {
        _options = options;
        _kube = kube;
        _log = log;
        _ec2 = new(ConnectEc2);
        Cache = new PolicyCache(kube, options.WatchIdleTimeout, log);
        var endpoint = options.WebhookUrl is { } url
            ? new WebhookEndpoint(null, null, new Uri(url))
            : new WebhookEndpoint(options.Namespace, options.WebhookService!.Split('/')[1], null);
        var names = endpoint.Url is { } u ? ServingNames.ForUrl(u) : ServingNames.ForService(endpoint.ServiceNamespace!, endpoint.ServiceName!);
        Certificates = options.TlsCertFile is { } cert
            ? new CertificateKeeper(null, null, names, (cert, options.TlsKeyFile!), log) { CheckInterval = options.CertificateCheckInterval }
            : new CertificateKeeper(new TlsSecretStore(kube, options.Namespace, options.TlsSecretName, log), new WebhookConfigurations(kube, endpoint, log),
                names, null, log) { CheckInterval = options.CertificateCheckInterval };
        WarmUp = new ListenerWarmUp(options.WebhookEndpoint, () => Certificates.Current, log);
        Elector = new LeaderElector(kube, options.Namespace, options.LeaseName, LeaderElector.NewIdentity(options.PodName), log)
        {
            RetryPeriod = options.LeaseRetryPeriod,
        };
        Metrics = new ControllerMetrics
        {
            IsLeader = () => Elector.IsLeader,
            CachesSynced = () => Cache.Synced,
            CertificateSecondsToExpiry = () => Certificates.SecondsToExpiry,
        };
        NetworkPolicies = new Informer<V1NetworkPolicy>(kube,
            new("networkpolicies", "/apis/networking.k8s.io/v1/networkpolicies", "", o => KubernetesJson.Deserialize<V1NetworkPolicy>(o.GetRawText())), log)
        { IdleTimeout = options.WatchIdleTimeout };
        // Without --leader-elect this replica is the only one (client-go's meaning of leader-elect=false).
        Companions = new CompanionReconciler(NetworkPolicies, () => new SecurityGroupMembership(_ec2.Value.Client, _ec2.Value.Policy, _log)
            {
                MaxStaleness = _options.SgMembershipMaxStaleness,
            }, new CompanionWriter(kube, Metrics, log),
            () => !options.LeaderElect || Elector.IsLeader, options.SgMembershipInterval, log);
        NetworkPolicies.Changed = Companions.OnPolicyChanged;
        Elector.LeadershipChanged += leader => Companions.Poke(refreshMembership: leader);
        if (options.EniCleanupEnabled)
        {
            Pods = new ClusterPods(kube, options.WatchIdleTimeout, log);
            Cleanup = new EniCleanupJob(() => new CleanupEc2(_ec2.Value.Client, _ec2.Value.Policy), options.ClusterName!,
                () => !options.LeaderElect || Elector.IsLeader, Pods.Uids, Metrics, log)
            {
                Interval = options.EniCleanupInterval,
                Cooldown = options.EniCleanupCooldown,
            };
            Elector.LeadershipChanged += Cleanup.OnLeadershipChanged;
        }
    }

    /// <summary>Every pod's UID (null when the ENI cleanup is off).</summary>
    public ClusterPods? Pods { get; }

    /// <summary>The leader's ENI cleanup (null when off: no --cluster-name, or --eni-cleanup=false).</summary>
    public EniCleanupJob? Cleanup { get; }

    /// <summary>Every NetworkPolicy (originals and companions), for the leader's companion job.</summary>
    public Informer<V1NetworkPolicy> NetworkPolicies { get; }

    public CompanionReconciler Companions { get; }

    public PolicyCache Cache { get; }

    public CertificateKeeper Certificates { get; }

    public ListenerWarmUp WarmUp { get; }

    public LeaderElector Elector { get; }

    public ControllerMetrics Metrics { get; }

    /// <summary>Why this replica should not get admission traffic yet, or null when it is ready.</summary>
    public string? NotReadyReason =>
        !Cache.Synced ? "the SecurityGroupPolicy and ServiceAccount caches have not synced"
        : Certificates.Current is null ? "no serving certificate is loaded"
        : !WarmUp.Done ? "the webhook listener has not answered over TLS yet"
        : null;

    /// <summary>Serves until cancelled.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        await using var app = BuildApp();
        await app.StartAsync(ct).ConfigureAwait(false);
        _log.Information("branch-eni-controller serving webhooks on https://{Webhook} and health on http://{Health} (namespace {Namespace})",
            _options.WebhookAddress, _options.HealthAddress, _options.Namespace);
        var loops = new List<Task> { Cache.RunAsync(ct), Certificates.RunAsync(ct), NetworkPolicies.RunAsync(ct), Companions.RunAsync(ct), WarmUp.RunAsync(ct) };
        if (_options.LeaderElect)
        {
            loops.Add(Elector.RunAsync(ct));
        }

        if (Pods is not null && Cleanup is not null)
        {
            loops.Add(Pods.RunAsync(ct));
            loops.Add(Cleanup.RunAsync(ct));
        }
        else
        {
            _log.Information("ENI cleanup is off ({Why})", _options.ClusterName is null ? "no --cluster-name" : "--eni-cleanup=false");
        }

        try
        {
            await Task.WhenAll(loops).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Stopping: a loop that ends by cancellation is the normal way out.
        }
        finally
        {
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await app.StopAsync(grace.Token).ConfigureAwait(false);
        }
    }

    /// <summary>The EC2 client and its call policy, shared by the companion and cleanup jobs and made when the first needs
    /// EC2 (so a cluster without annotated policies and without cleanup needs no AWS credentials for the controller).</summary>
    private (IAmazonEC2, Ec2CallPolicy) ConnectEc2()
    {
        var limits = _options.Ec2Limits() with
        {
            // A poll that cannot get through soon is better retried at the next interval than queued behind backoffs.
            MaxAttempts = 3,
        };
        return (Ec2ClientFactory.Create(_options.Ec2Endpoint, _options.Region), new Ec2CallPolicy(limits, Metrics, _log));
    }

    private WebApplication BuildApp()
    {
        // The content root is the executable's folder, never the working directory: the host watches its content root
        // for appsettings changes, and a watch over `/` (the demo starts everything from there) hung start-up for minutes.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        // ASP.NET Core's own events (TLS handshake failures, bind errors) go to our JSON log, warnings and up only: the
        // Serilog provider lets everything through to its logger (its filter rule wins over SetMinimumLevel), so the
        // level is set on a child logger instead. Per-request information would drown the admission log lines.
        builder.Logging.ClearProviders();
        builder.Logging.AddSerilog(new LoggerConfiguration().MinimumLevel.Warning().WriteTo.Logger(_log).CreateLogger(), dispose: true);
        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // The API server sends the pod and, on UPDATE, the old pod: objects are capped at ~1.5 MB each.
            kestrel.Limits.MaxRequestBodySize = 8 * 1024 * 1024;
            kestrel.Listen(_options.WebhookEndpoint, listen => listen.UseHttps(https =>
                https.ServerCertificateSelector = (_, _) => Certificates.Current));
            kestrel.Listen(_options.HealthEndpoint);
        });
        var app = builder.Build();
        var handlers = new WebhookHandlers(Cache, _options, Metrics, _log);
        app.MapPost(WebhookEndpoint.MutatePath, handlers.MutateAsync);
        app.MapPost(WebhookEndpoint.ValidatePath, handlers.ValidateAsync);
        app.MapGet("/healthz", context => context.Response.WriteAsync("ok\n"));
        app.MapGet("/readyz", ReadyAsync);
        app.MapGet("/metrics", context =>
        {
            context.Response.ContentType = "text/plain; version=0.0.4";
            return context.Response.WriteAsync(Metrics.Render());
        });
        return app;
    }

    private Task ReadyAsync(HttpContext context)
    {
        var why = NotReadyReason;
        context.Response.StatusCode = why is null ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
        return context.Response.WriteAsync((why ?? "ready") + "\n");
    }
}
