using k8s;
using k8s.Models;
using static BranchEni.Sandbox.Tests.Kubernetes.Admission.WebhookConfigs;

namespace BranchEni.Sandbox.Tests.Kubernetes.Admission;

/// <summary>Which webhooks are called: rules, namespaceSelector (the Namespace's labels), objectSelector (old or new labels).</summary>
public sealed class AdmissionMatchingTests : AdmissionFixture
{
    private Task HookAsync(string name, Hook hook) =>
        Client.AdmissionregistrationV1.CreateValidatingWebhookConfigurationAsync(
            Validating(name, ValidatingHook($"{name}.branch-eni.test", Webhooks.Url($"/{name}"), Webhooks.Certificates.CaPem, hook)));

    private List<string> Called(string hook) =>
        Webhooks.CallsTo($"/{hook}").Select(r => $"{r["operation"]} {r["namespace"]}/{r["name"]}").ToList();

    [Fact]
    public async Task Namespace_and_object_selectors_and_rules_pick_the_webhooks()
    {
        foreach (var hook in new[] { "prod", "green", "services", "creates" })
        {
            Webhooks.Handlers[$"/{hook}"] = _ => Task.FromResult(WebhookServer.Allow());
        }

        await Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = "team-a", Labels = new Dictionary<string, string> { ["env"] = "prod" } } });
        await Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = "team-b" } });
        await HookAsync("prod", new Hook
        {
            NamespaceSelector = new V1LabelSelector { MatchExpressions = [new V1LabelSelectorRequirement { Key = "env", OperatorProperty = "In", Values = ["prod"] }] },
        });
        await HookAsync("green", new Hook { ObjectSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "green" } } });
        await HookAsync("services", new Hook { Resources = ["services"] });
        await HookAsync("creates", new Hook { Operations = ["CREATE"], Resources = ["*"] });

        await Client.CoreV1.CreateNamespacedPodAsync(Pod("green"), "team-a");
        await Client.CoreV1.CreateNamespacedPodAsync(Pod("red"), "team-b");
        // The object selector matches the old labels too: taking "app: green" away is still judged.
        await Client.CoreV1.PatchNamespacedPodAsync(new V1Patch("""{"metadata":{"labels":{"app":"grey"}}}""", V1Patch.PatchType.MergePatch), "green", "team-a");
        await Client.CoreV1.PatchNamespacedPodAsync(new V1Patch("""{"metadata":{"labels":{"app":"pink"}}}""", V1Patch.PatchType.MergePatch), "red", "team-b");
        await Client.CoreV1.CreateNamespacedServiceAsync(new V1Service { Metadata = new V1ObjectMeta { Name = "db" } }, "team-b");

        Assert.Equal(["CREATE team-a/green", "UPDATE team-a/green"], Called("prod"));
        Assert.Equal(["CREATE team-a/green", "UPDATE team-a/green"], Called("green"));
        Assert.Equal(["CREATE team-b/db"], Called("services"));
        // "*" is every resource of the rule's group and version: pods and services alike.
        Assert.Equal(["CREATE team-a/green", "CREATE team-b/red", "CREATE team-b/db"], Called("creates"));
    }
}
