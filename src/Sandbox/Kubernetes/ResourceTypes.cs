namespace BranchEni.Sandbox.Kubernetes;

/// <summary>One served resource: where it lives in the API, its names for discovery, and whether it has /status.</summary>
internal sealed record ResourceType(
    string Group, string Version, string Kind, string Plural, string Singular, bool Namespaced, string[] ShortNames, bool HasStatus)
{
    public string GroupVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";
    public string ListKind => Kind + "List";
}

/// <summary>
/// The API subset the sandbox serves: core pods, nodes, namespaces, serviceaccounts, events, secrets, services, the SGP
/// CRD, leases (leader election), network policies, and the admission webhook configurations the API server calls.
/// </summary>
internal static class ResourceTypes
{
    public const string SgpGroup = "vpcresources.k8s.aws";
    public const string AdmissionGroup = "admissionregistration.k8s.io";

    public static readonly ResourceType Pods = new("", "v1", "Pod", "pods", "pod", true, ["po"], true);
    public static readonly ResourceType Nodes = new("", "v1", "Node", "nodes", "node", false, ["no"], true);
    public static readonly ResourceType Namespaces = new("", "v1", "Namespace", "namespaces", "namespace", false, ["ns"], true);
    public static readonly ResourceType ServiceAccounts = new("", "v1", "ServiceAccount", "serviceaccounts", "serviceaccount", true, ["sa"], false);
    public static readonly ResourceType Events = new("", "v1", "Event", "events", "event", true, ["ev"], false);
    public static readonly ResourceType SecurityGroupPolicies =
        new(SgpGroup, "v1beta1", "SecurityGroupPolicy", "securitygrouppolicies", "securitygrouppolicy", true, ["sgp"], false);

    public static readonly ResourceType Secrets = new("", "v1", "Secret", "secrets", "secret", true, [], false);
    public static readonly ResourceType Services = new("", "v1", "Service", "services", "service", true, ["svc"], true);
    public static readonly ResourceType Leases = new("coordination.k8s.io", "v1", "Lease", "leases", "lease", true, [], false);
    public static readonly ResourceType NetworkPolicies =
        new("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", "networkpolicy", true, ["netpol"], false);
    public static readonly ResourceType MutatingWebhookConfigurations =
        new(AdmissionGroup, "v1", "MutatingWebhookConfiguration", "mutatingwebhookconfigurations", "mutatingwebhookconfiguration", false, [], false);
    public static readonly ResourceType ValidatingWebhookConfigurations =
        new(AdmissionGroup, "v1", "ValidatingWebhookConfiguration", "validatingwebhookconfigurations", "validatingwebhookconfiguration", false, [], false);

    public static readonly IReadOnlyList<ResourceType> All =
    [
        Pods, Nodes, Namespaces, ServiceAccounts, Events, Secrets, Services, SecurityGroupPolicies, Leases, NetworkPolicies,
        MutatingWebhookConfigurations, ValidatingWebhookConfigurations,
    ];

    /// <summary>The API groups besides core, in the order /apis lists them.</summary>
    public static IEnumerable<string> Groups => All.Select(t => t.Group).Where(g => g.Length > 0).Distinct();

    public static ResourceType? Find(string groupVersion, string plural) =>
        All.FirstOrDefault(t => t.GroupVersion == groupVersion && t.Plural == plural);
}
