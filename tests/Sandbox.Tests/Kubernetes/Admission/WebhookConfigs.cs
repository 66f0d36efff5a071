using k8s.Models;

namespace BranchEni.Sandbox.Tests.Kubernetes.Admission;

/// <summary>Typed webhook configurations for KubernetesClient, with the v1 fields every test sets the same way.</summary>
internal static class WebhookConfigs
{
    public static V1MutatingWebhookConfiguration Mutating(string name, params V1MutatingWebhook[] webhooks) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Webhooks = webhooks,
    };

    public static V1ValidatingWebhookConfiguration Validating(string name, params V1ValidatingWebhook[] webhooks) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Webhooks = webhooks,
    };

    public static V1MutatingWebhook MutatingHook(string name, string url, byte[]? caPem, Hook? hook = null)
    {
        hook ??= new Hook();
        return new V1MutatingWebhook
        {
            Name = name,
            ClientConfig = new Admissionregistrationv1WebhookClientConfig { Url = url, CaBundle = caPem },
            Rules = [Rule(hook)],
            FailurePolicy = hook.FailurePolicy,
            TimeoutSeconds = hook.TimeoutSeconds,
            NamespaceSelector = hook.NamespaceSelector,
            ObjectSelector = hook.ObjectSelector,
            SideEffects = "None",
            AdmissionReviewVersions = hook.ReviewVersions,
        };
    }

    public static V1ValidatingWebhook ValidatingHook(string name, string url, byte[]? caPem, Hook? hook = null)
    {
        hook ??= new Hook();
        return new V1ValidatingWebhook
        {
            Name = name,
            ClientConfig = new Admissionregistrationv1WebhookClientConfig { Url = url, CaBundle = caPem },
            Rules = [Rule(hook)],
            FailurePolicy = hook.FailurePolicy,
            TimeoutSeconds = hook.TimeoutSeconds,
            NamespaceSelector = hook.NamespaceSelector,
            ObjectSelector = hook.ObjectSelector,
            SideEffects = "None",
            AdmissionReviewVersions = hook.ReviewVersions,
        };
    }

    private static V1RuleWithOperations Rule(Hook hook) => new()
    {
        Operations = hook.Operations,
        ApiGroups = [""],
        ApiVersions = ["v1"],
        Resources = hook.Resources,
    };

    /// <summary>What varies between the tests' webhooks; the defaults are the controller's pod webhooks.</summary>
    internal sealed record Hook
    {
        public string[] Operations { get; init; } = ["CREATE", "UPDATE"];
        public string[] Resources { get; init; } = ["pods"];
        public string FailurePolicy { get; init; } = "Fail";
        public int TimeoutSeconds { get; init; } = 5;
        public V1LabelSelector? NamespaceSelector { get; init; }
        public V1LabelSelector? ObjectSelector { get; init; }
        public string[] ReviewVersions { get; init; } = ["v1"];
    }
}
