using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using static BranchEni.Sandbox.Tests.Kubernetes.Admission.WebhookConfigs;

namespace BranchEni.Sandbox.Tests.Kubernetes.Admission;

/// <summary>What the sandbox sends webhooks and what it does with their answers, through KubernetesClient.</summary>
public sealed class AdmissionCallTests : AdmissionFixture
{
    private async Task InstallAsync(Hook? hook = null)
    {
        await Client.AdmissionregistrationV1.CreateMutatingWebhookConfigurationAsync(
            Mutating("branch-eni", MutatingHook("mpod.branch-eni.test", Webhooks.Url("/mutate-v1-pod"), Webhooks.Certificates.CaPem, hook)));
        await Client.AdmissionregistrationV1.CreateValidatingWebhookConfigurationAsync(
            Validating("branch-eni", ValidatingHook("vpod.branch-eni.test", Webhooks.Url("/validate-v1-pod"), Webhooks.Certificates.CaPem, hook)));
    }

    [Fact]
    public async Task A_mutating_patch_is_stored_and_validating_webhooks_see_the_mutated_pod()
    {
        Webhooks.Handlers["/mutate-v1-pod"] = _ => Task.FromResult(WebhookServer.Patch(new JsonArray(
            new JsonObject { ["op"] = "add", ["path"] = "/metadata/labels/mutated", ["value"] = "yes" })));
        Webhooks.Handlers["/validate-v1-pod"] = _ => Task.FromResult(WebhookServer.Allow());
        await InstallAsync();

        var created = await Client.CoreV1.CreateNamespacedPodAsync(Pod("green"), "default");
        Assert.Equal("yes", created.Metadata.Labels["mutated"]);
        Assert.Equal("yes", (await Client.CoreV1.ReadNamespacedPodAsync("green", "default")).Metadata.Labels["mutated"]);

        var mutate = Assert.Single(Webhooks.CallsTo("/mutate-v1-pod"));
        Assert.Equal("CREATE", mutate["operation"]!.GetValue<string>());
        Assert.Equal("""{"group":"","version":"v1","kind":"Pod"}""", mutate["kind"]!.ToJsonString());
        Assert.Equal("""{"group":"","version":"v1","resource":"pods"}""", mutate["resource"]!.ToJsonString());
        Assert.Equal("""{"group":"","version":"v1","resource":"pods"}""", mutate["requestResource"]!.ToJsonString());
        Assert.Equal(("green", "default"), (mutate["name"]!.GetValue<string>(), mutate["namespace"]!.GetValue<string>()));
        Assert.Null(mutate["oldObject"]);
        Assert.False(mutate["dryRun"]!.GetValue<bool>());
        Assert.Equal("CreateOptions", mutate["options"]!["kind"]!.GetValue<string>());
        Assert.Null(mutate["object"]!["metadata"]!["labels"]!["mutated"]);
        Assert.Null(mutate["object"]!["metadata"]!["uid"]);

        // The validating webhook sees the object as it will be stored: mutated, with its uid and defaults.
        var validate = Assert.Single(Webhooks.CallsTo("/validate-v1-pod"));
        Assert.Equal("yes", validate["object"]!["metadata"]!["labels"]!["mutated"]!.GetValue<string>());
        Assert.Equal(created.Metadata.Uid, validate["object"]!["metadata"]!["uid"]!.GetValue<string>());
        Assert.Equal("default", validate["object"]!["spec"]!["serviceAccountName"]!.GetValue<string>());
        Assert.NotEqual(mutate["uid"]!.GetValue<string>(), validate["uid"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_denial_answers_with_the_webhooks_code_and_message_and_stores_nothing()
    {
        Webhooks.Handlers["/mutate-v1-pod"] = _ => Task.FromResult(WebhookServer.Allow());
        Webhooks.Handlers["/validate-v1-pod"] = r => Task.FromResult(
            r["object"]!["metadata"]!["name"]!.GetValue<string>() == "red" ? WebhookServer.Deny("red pods are refused", 403) : WebhookServer.Deny("no"));
        await InstallAsync();

        var (code, message, reason) = await RefusedAsync(() => Client.CoreV1.CreateNamespacedPodAsync(Pod("red"), "default"));
        Assert.Equal(HttpStatusCode.Forbidden, code);
        Assert.Equal("admission webhook \"vpod.branch-eni.test\" denied the request: red pods are refused", message);
        Assert.Null(reason);

        // No code in the webhook's status: 400, as Kubernetes 1.32 answers.
        (code, message, _) = await RefusedAsync(() => Client.CoreV1.CreateNamespacedPodAsync(Pod("blue"), "default"));
        Assert.Equal(HttpStatusCode.BadRequest, code);
        Assert.Equal("admission webhook \"vpod.branch-eni.test\" denied the request: no", message);
        Assert.Empty(await PodNamesAsync());
    }

    [Fact]
    public async Task Updates_are_admitted_with_the_old_object_and_status_only_by_rules_naming_pods_status()
    {
        Webhooks.Handlers["/mutate-v1-pod"] = _ => Task.FromResult(WebhookServer.Allow());
        Webhooks.Handlers["/validate-v1-pod"] = _ => Task.FromResult(WebhookServer.Allow());
        Webhooks.Handlers["/status"] = _ => Task.FromResult(WebhookServer.Allow());
        await InstallAsync(new Hook { Operations = ["UPDATE"] });
        await Client.AdmissionregistrationV1.CreateValidatingWebhookConfigurationAsync(
            Validating("status", ValidatingHook("status.branch-eni.test", Webhooks.Url("/status"), Webhooks.Certificates.CaPem, new Hook { Resources = ["pods/status"] })));

        await Client.CoreV1.CreateNamespacedPodAsync(Pod("green"), "default");
        Assert.Empty(Webhooks.Calls);
        await Client.CoreV1.PatchNamespacedPodAsync(new V1Patch("""{"metadata":{"labels":{"tier":"web"}}}""", V1Patch.PatchType.MergePatch), "green", "default");
        var update = Assert.Single(Webhooks.CallsTo("/mutate-v1-pod"));
        Assert.Equal("UPDATE", update["operation"]!.GetValue<string>());
        Assert.Equal("UpdateOptions", update["options"]!["kind"]!.GetValue<string>());
        Assert.Equal("web", update["object"]!["metadata"]!["labels"]!["tier"]!.GetValue<string>());
        Assert.Null(update["oldObject"]!["metadata"]!["labels"]!["tier"]);
        Assert.Null(update["subResource"]);
        Assert.Empty(Webhooks.CallsTo("/status"));

        await Client.CoreV1.PatchNamespacedPodStatusAsync(new V1Patch("""{"status":{"phase":"Running"}}""", V1Patch.PatchType.MergePatch), "green", "default");
        var status = Assert.Single(Webhooks.CallsTo("/status"));
        Assert.Equal("status", status["subResource"]!.GetValue<string>());
        Assert.Equal("Running", status["object"]!["status"]!["phase"]!.GetValue<string>());
        Assert.Single(Webhooks.CallsTo("/mutate-v1-pod"));
    }

    [Fact]
    public async Task Each_kubeconfig_context_is_its_own_identity_in_userInfo()
    {
        Webhooks.Handlers["/mutate-v1-pod"] = _ => Task.FromResult(WebhookServer.Allow());
        Webhooks.Handlers["/validate-v1-pod"] = _ => Task.FromResult(WebhookServer.Allow());
        await InstallAsync(new Hook { Operations = ["CREATE"] });

        foreach (var context in new[] { "admin", "agent", "user" })
        {
            using var client = ClientAs(context);
            await client.CoreV1.CreateNamespacedPodAsync(Pod($"by-{context}"), "default");
        }

        // A client built from the sandbox's token without any kubeconfig file is the same identity.
        var agent = Sandbox.Identities["agent"];
        using (var byToken = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = Sandbox.Endpoints.Kubernetes.ToString(), AccessToken = agent.Token }))
        {
            await byToken.CoreV1.CreateNamespacedPodAsync(Pod("by-token"), "default");
        }

        // And so is one built from the kubeconfig text SandboxHost hands out for a context.
        var file = Path.Combine(Dir, "user.kubeconfig");
        await File.WriteAllTextAsync(file, Sandbox.Kubeconfig("user"));
        using (var fromText = new k8s.Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(file)))
        {
            await fromText.CoreV1.CreateNamespacedPodAsync(Pod("by-text"), "default");
        }

        var users = Webhooks.CallsTo("/validate-v1-pod").ToDictionary(r => r["name"]!.GetValue<string>(), r => r["userInfo"]!.ToJsonString());
        Assert.Equal("""{"username":"kubernetes-admin","groups":["system:masters","system:authenticated"]}""", users["by-admin"]);
        Assert.Equal(
            $$"""{"username":"system:serviceaccount:kube-system:branch-eni","uid":"{{agent.Uid}}","groups":["system:serviceaccounts","system:serviceaccounts:kube-system","system:authenticated"]}""",
            users["by-agent"]);
        Assert.Equal("""{"username":"jane","groups":["system:authenticated"]}""", users["by-user"]);
        Assert.Equal(users["by-agent"], users["by-token"]);
        Assert.Equal(users["by-user"], users["by-text"]);
        Assert.Equal(3, Sandbox.Identities.All.Select(i => i.Token).Distinct().Count());
    }

    [Fact]
    public async Task A_dry_run_is_admitted_and_stores_nothing()
    {
        Webhooks.Handlers["/mutate-v1-pod"] = _ => Task.FromResult(WebhookServer.Patch(new JsonArray(
            new JsonObject { ["op"] = "add", ["path"] = "/metadata/annotations", ["value"] = new JsonObject { ["seen"] = "dry" } })));
        Webhooks.Handlers["/validate-v1-pod"] = _ => Task.FromResult(WebhookServer.Allow());
        await InstallAsync();

        var preview = await Client.CoreV1.CreateNamespacedPodAsync(Pod("green"), "default", dryRun: "All");
        Assert.Equal("dry", preview.Metadata.Annotations["seen"]);
        Assert.All(Webhooks.Calls, c => Assert.True(c.Request["dryRun"]!.GetValue<bool>()));
        Assert.Equal(2, Webhooks.Calls.Count);
        Assert.Empty(await PodNamesAsync());
    }

    [Fact]
    public async Task A_webhook_that_does_not_speak_AdmissionReview_v1_is_not_called()
    {
        Webhooks.Handlers["/validate-v1-pod"] = _ => Task.FromResult(WebhookServer.Deny("never asked"));
        await Client.AdmissionregistrationV1.CreateValidatingWebhookConfigurationAsync(Validating("old",
            ValidatingHook("old.branch-eni.test", Webhooks.Url("/validate-v1-pod"), Webhooks.Certificates.CaPem, new Hook { ReviewVersions = ["v1beta1"] })));

        await Client.CoreV1.CreateNamespacedPodAsync(Pod("green"), "default");
        Assert.Empty(Webhooks.Calls);
    }
}
