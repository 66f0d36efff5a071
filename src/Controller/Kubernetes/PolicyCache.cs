using BranchEni.Controller.Admission;
using BranchEni.Kube;
using BranchEni.Policy;
using Serilog;

namespace BranchEni.Controller.Kubernetes;

/// <summary>
/// The two informer caches the mutating webhook selects from: every SecurityGroupPolicy and every ServiceAccount (for
/// serviceAccountSelector). The same informer as the agent's (src/Kube); the webhook never calls the API server.
/// </summary>
internal sealed class PolicyCache
{
    public PolicyCache(KubeConnection kube, TimeSpan idleTimeout, ILogger log)
    {
        Policies = new Informer<SecurityGroupPolicy>(kube,
            new("securitygrouppolicies", $"/apis/{SecurityGroupPolicy.Group}/{SecurityGroupPolicy.Version}/{SecurityGroupPolicy.Plural}", "", SecurityGroupPolicy.Parse), log)
        { IdleTimeout = idleTimeout };
        ServiceAccounts = new Informer<ServiceAccountView>(kube, new("serviceaccounts", "/api/v1/serviceaccounts", "", ServiceAccountView.Parse), log)
        { IdleTimeout = idleTimeout };
        Policies.Bad += (key, problem, _) => log.Warning("SecurityGroupPolicy {Policy} is ignored: {Problem}", key, problem);
    }

    public Informer<SecurityGroupPolicy> Policies { get; }

    public Informer<ServiceAccountView> ServiceAccounts { get; }

    public bool Synced => Policies.IsSynced && ServiceAccounts.IsSynced;

    public SelectionInputs Inputs => new(Synced, Policies.Items, (ns, name) => ServiceAccounts.Get($"{ns}/{name}")?.Labels);

    public Task RunAsync(CancellationToken ct) => Task.WhenAll(Policies.RunAsync(ct), ServiceAccounts.RunAsync(ct));
}
