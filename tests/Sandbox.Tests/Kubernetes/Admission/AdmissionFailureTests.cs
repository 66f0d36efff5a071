using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using static BranchEni.Sandbox.Tests.Kubernetes.Admission.WebhookConfigs;

namespace BranchEni.Sandbox.Tests.Kubernetes.Admission;

/// <summary>Webhooks that are down, slow, untrusted or answer nonsense: failurePolicy Ignore skips them, Fail refuses.</summary>
public sealed class AdmissionFailureTests : AdmissionFixture
{
    private Task ValidateWithAsync(string name, string url, string failurePolicy, byte[]? caPem = null, int timeoutSeconds = 5) =>
        Client.AdmissionregistrationV1.CreateValidatingWebhookConfigurationAsync(Validating(name,
            ValidatingHook($"{name}.branch-eni.test", url, caPem ?? Webhooks.Certificates.CaPem,
                new Hook { FailurePolicy = failurePolicy, TimeoutSeconds = timeoutSeconds, ObjectSelector = Only(name) })));

    /// <summary>Each webhook of a test judges only pods labelled for it, so one sandbox holds several cases.</summary>
    private static V1LabelSelector Only(string name) => new() { MatchLabels = new Dictionary<string, string> { ["case"] = name } };

    private static V1Pod For(string name) => Pod(name, new() { ["case"] = name });

    [Fact]
    public async Task A_webhook_that_is_down_is_skipped_under_Ignore_and_refuses_under_Fail()
    {
        var url = $"https://127.0.0.1:{ClosedPort()}/validate-v1-pod";
        await ValidateWithAsync("ignored", url, "Ignore");
        await ValidateWithAsync("failed", url, "Fail");

        await Client.CoreV1.CreateNamespacedPodAsync(For("ignored"), "default");
        var (code, message, reason) = await RefusedAsync(() => Client.CoreV1.CreateNamespacedPodAsync(For("failed"), "default"));
        Assert.Equal(HttpStatusCode.InternalServerError, code);
        Assert.Equal("InternalError", reason);
        Assert.Equal(
            $"Internal error occurred: failed calling webhook \"failed.branch-eni.test\": failed to call webhook: Post \"{url}?timeout=5s\": dial tcp {new Uri(url).Authority}: connect: connection refused",
            message);
        Assert.Equal(["ignored"], await PodNamesAsync());
    }

    [Fact]
    public async Task A_webhook_slower_than_its_timeout_is_skipped_under_Ignore_and_refuses_under_Fail()
    {
        Webhooks.Handlers["/slow"] = async _ =>
        {
            await Task.Delay(TimeSpan.FromSeconds(4));
            return WebhookServer.Allow();
        };
        await ValidateWithAsync("ignored", Webhooks.Url("/slow"), "Ignore", timeoutSeconds: 1);
        await ValidateWithAsync("failed", Webhooks.Url("/slow"), "Fail", timeoutSeconds: 1);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        await Client.CoreV1.CreateNamespacedPodAsync(For("ignored"), "default");
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(3.5));
        var (code, message, _) = await RefusedAsync(() => Client.CoreV1.CreateNamespacedPodAsync(For("failed"), "default"));
        Assert.Equal(HttpStatusCode.InternalServerError, code);
        Assert.EndsWith($"Post \"{Webhooks.Url("/slow")}?timeout=1s\": context deadline exceeded", message, StringComparison.Ordinal);
        Assert.Equal(["ignored"], await PodNamesAsync());
    }

    [Fact]
    public async Task A_server_is_trusted_only_through_the_caBundle_and_only_for_the_address_it_names()
    {
        Webhooks.Handlers["/validate-v1-pod"] = _ => Task.FromResult(WebhookServer.Allow());
        using var stranger = TestCertificates.Create();
        await ValidateWithAsync("stranger", Webhooks.Url("/validate-v1-pod"), "Fail", stranger.CaPem);
        await using var misnamed = await WebhookServer.StartAsync(ipSan: false);
        misnamed.Handlers["/validate-v1-pod"] = _ => Task.FromResult(WebhookServer.Allow());
        await ValidateWithAsync("misnamed", misnamed.Url("/validate-v1-pod"), "Fail", misnamed.Certificates.CaPem);
        await ValidateWithAsync("trusted", Webhooks.Url("/validate-v1-pod"), "Fail");

        var (_, message, _) = await RefusedAsync(() => Client.CoreV1.CreateNamespacedPodAsync(For("stranger"), "default"));
        Assert.EndsWith("tls: failed to verify certificate: x509: certificate signed by unknown authority", message, StringComparison.Ordinal);
        (_, message, _) = await RefusedAsync(() => Client.CoreV1.CreateNamespacedPodAsync(For("misnamed"), "default"));
        Assert.EndsWith("tls: failed to verify certificate: x509: certificate is not valid for 127.0.0.1", message, StringComparison.Ordinal);
        Assert.Empty(misnamed.Calls);

        await Client.CoreV1.CreateNamespacedPodAsync(For("trusted"), "default");
        Assert.Equal(["trusted"], await PodNamesAsync());
    }

    [Fact]
    public async Task An_answer_for_another_request_or_a_patch_from_a_validating_webhook_is_a_failed_call()
    {
        Webhooks.Handlers["/wrong-uid"] = _ => Task.FromResult(new JsonObject { ["uid"] = "not-the-request", ["allowed"] = true });
        Webhooks.Handlers["/patching"] = _ => Task.FromResult(WebhookServer.Patch([]));
        await ValidateWithAsync("uid", Webhooks.Url("/wrong-uid"), "Fail");
        await ValidateWithAsync("patching", Webhooks.Url("/patching"), "Fail");

        var (code, message, _) = await RefusedAsync(() => Client.CoreV1.CreateNamespacedPodAsync(For("uid"), "default"));
        Assert.Equal(HttpStatusCode.InternalServerError, code);
        var uid = Assert.Single(Webhooks.CallsTo("/wrong-uid"))["uid"]!.GetValue<string>();
        Assert.Equal(
            $"Internal error occurred: failed calling webhook \"uid.branch-eni.test\": received invalid webhook response: expected response.uid=\"{uid}\", got \"not-the-request\"",
            message);
        (_, message, _) = await RefusedAsync(() => Client.CoreV1.CreateNamespacedPodAsync(For("patching"), "default"));
        Assert.EndsWith("received invalid webhook response: validating webhook may not return response.patch", message, StringComparison.Ordinal);
        Assert.Empty(await PodNamesAsync());
    }

    [Fact]
    public async Task A_mutating_patch_that_does_not_apply_is_an_internal_error_even_under_Ignore()
    {
        Webhooks.Handlers["/bad-patch"] = _ => Task.FromResult(WebhookServer.Patch(new JsonArray(
            new JsonObject { ["op"] = "remove", ["path"] = "/metadata/nothing-here" })));
        await Client.AdmissionregistrationV1.CreateMutatingWebhookConfigurationAsync(Mutating("bad",
            MutatingHook("bad.branch-eni.test", Webhooks.Url("/bad-patch"), Webhooks.Certificates.CaPem, new Hook { FailurePolicy = "Ignore" })));

        var (code, message, _) = await RefusedAsync(() => Client.CoreV1.CreateNamespacedPodAsync(Pod("green"), "default"));
        Assert.Equal(HttpStatusCode.InternalServerError, code);
        Assert.StartsWith("Internal error occurred: admission webhook \"bad.branch-eni.test\" returned a patch that does not apply", message, StringComparison.Ordinal);
        Assert.Empty(await PodNamesAsync());
    }

    [Fact]
    public async Task A_service_reference_cannot_be_reached_in_the_sandbox()
    {
        var service = new V1ValidatingWebhook
        {
            Name = "svc.branch-eni.test",
            ClientConfig = new Admissionregistrationv1WebhookClientConfig
            {
                Service = new Admissionregistrationv1ServiceReference { Name = "branch-eni-webhook", NamespaceProperty = "kube-system", Path = "/validate-v1-pod" },
            },
            Rules = [new V1RuleWithOperations { Operations = ["CREATE"], ApiGroups = [""], ApiVersions = ["v1"], Resources = ["pods"] }],
            SideEffects = "None",
            AdmissionReviewVersions = ["v1"],
        };
        var stored = await Client.AdmissionregistrationV1.CreateValidatingWebhookConfigurationAsync(Validating("svc", service));
        Assert.Equal(443, stored.Webhooks[0].ClientConfig.Service.Port);
        Assert.Equal(10, stored.Webhooks[0].TimeoutSeconds);
        Assert.Equal("Fail", stored.Webhooks[0].FailurePolicy);

        var (code, message, _) = await RefusedAsync(() => Client.CoreV1.CreateNamespacedPodAsync(Pod("green"), "default"));
        Assert.Equal(HttpStatusCode.InternalServerError, code);
        Assert.EndsWith(
            "failed to call webhook: Post \"https://branch-eni-webhook.kube-system.svc:443/validate-v1-pod?timeout=10s\": service \"branch-eni-webhook\" not found",
            message, StringComparison.Ordinal);
    }
}
