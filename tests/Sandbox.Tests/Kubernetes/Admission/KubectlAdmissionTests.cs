using System.Diagnostics;
using System.Text.Json.Nodes;
using k8s;

namespace BranchEni.Sandbox.Tests.Kubernetes.Admission;

/// <summary>Webhook configurations and admission as kubectl (/usr/bin/kubectl) sees them, with the sandbox's kubeconfig.</summary>
public sealed class KubectlAdmissionTests : AdmissionFixture
{
    private const string PodYaml = """
        apiVersion: v1
        kind: Pod
        metadata:
          name: red
          labels: {app: red}
        spec:
          containers:
          - name: app
            image: busybox
        """;

    private string ConfigurationsYaml(int timeoutSeconds) => $$"""
        apiVersion: admissionregistration.k8s.io/v1
        kind: MutatingWebhookConfiguration
        metadata:
          name: branch-eni
        webhooks:
        - name: mpod.branch-eni.test
          clientConfig:
            url: {{Webhooks.Url("/mutate-v1-pod")}}
            caBundle: {{Webhooks.CaBundle}}
          rules:
          - {operations: [CREATE], apiGroups: [""], apiVersions: [v1], resources: [pods]}
          sideEffects: None
          admissionReviewVersions: [v1]
          timeoutSeconds: {{timeoutSeconds}}
        ---
        apiVersion: admissionregistration.k8s.io/v1
        kind: ValidatingWebhookConfiguration
        metadata:
          name: branch-eni
        webhooks:
        - name: vpod.branch-eni.test
          clientConfig:
            url: {{Webhooks.Url("/validate-v1-pod")}}
            caBundle: {{Webhooks.CaBundle}}
          rules:
          - {operations: [CREATE, UPDATE], apiGroups: [""], apiVersions: [v1], resources: [pods]}
          sideEffects: None
          admissionReviewVersions: [v1]
        """;

    private async Task<(int Exit, string Stdout, string Stderr)> KubectlAsync(params string[] args)
    {
        var info = new ProcessStartInfo("/usr/bin/kubectl") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--kubeconfig", Path.Combine(Dir, "kubeconfig"), "--cache-dir", Path.Combine(Dir, "cache"), "--request-timeout", "20s" }.Concat(args))
        {
            info.ArgumentList.Add(a);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(40));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, (await stdout).Trim(), (await stderr).Trim());
    }

    private async Task<string> OkAsync(params string[] args)
    {
        var (exit, stdout, stderr) = await KubectlAsync(args);
        Assert.True(exit == 0, $"kubectl {string.Join(' ', args)} exited {exit}: {stderr}");
        return stdout;
    }

    [Fact]
    public async Task Webhook_configurations_are_applied_listed_changed_and_deleted_with_kubectl()
    {
        var file = Path.Combine(Dir, "webhooks.yaml");
        await File.WriteAllTextAsync(file, ConfigurationsYaml(10));
        Assert.Equal(
            "mutatingwebhookconfiguration.admissionregistration.k8s.io/branch-eni created\nvalidatingwebhookconfiguration.admissionregistration.k8s.io/branch-eni created",
            await OkAsync("apply", "-f", file));
        Assert.Equal("validatingwebhookconfiguration.admissionregistration.k8s.io/branch-eni", await OkAsync("get", "validatingwebhookconfigurations", "-o", "name"));
        Assert.Equal("Fail Never", await OkAsync("get", "mutatingwebhookconfiguration", "branch-eni", "-o", "jsonpath={.webhooks[0].failurePolicy} {.webhooks[0].reinvocationPolicy}"));

        await File.WriteAllTextAsync(file, ConfigurationsYaml(3));
        Assert.StartsWith("mutatingwebhookconfiguration.admissionregistration.k8s.io/branch-eni configured", await OkAsync("apply", "-f", file), StringComparison.Ordinal);
        Assert.Equal("3", await OkAsync("get", "mutatingwebhookconfiguration", "branch-eni", "-o", "jsonpath={.webhooks[0].timeoutSeconds}"));

        Assert.Equal(
            "mutatingwebhookconfiguration.admissionregistration.k8s.io \"branch-eni\" deleted\nvalidatingwebhookconfiguration.admissionregistration.k8s.io \"branch-eni\" deleted",
            await OkAsync("delete", "-f", file));
        Assert.Empty((await Client.AdmissionregistrationV1.ListMutatingWebhookConfigurationAsync()).Items);
    }

    [Fact]
    public async Task An_invalid_configuration_is_refused_with_the_field_that_is_wrong()
    {
        var file = Path.Combine(Dir, "bad.yaml");
        await File.WriteAllTextAsync(file, ConfigurationsYaml(10).Replace("sideEffects: None", "sideEffects: Some", StringComparison.Ordinal));
        var (exit, _, stderr) = await KubectlAsync("create", "-f", file);
        Assert.Equal(1, exit);
        Assert.Contains(
            "MutatingWebhookConfiguration.admissionregistration.k8s.io \"branch-eni\" is invalid: webhooks[0].sideEffects: Unsupported value: \"Some\": supported values: \"None\", \"NoneOnDryRun\"",
            stderr, StringComparison.Ordinal);
        Assert.Empty((await Client.AdmissionregistrationV1.ListMutatingWebhookConfigurationAsync()).Items);
    }

    [Fact]
    public async Task A_denial_and_warnings_reach_kubectl_worded_like_the_API_server_for_the_user_context()
    {
        Webhooks.Handlers["/mutate-v1-pod"] = _ => Task.FromResult(WebhookServer.Allow());
        Webhooks.Handlers["/validate-v1-pod"] = r =>
        {
            var answer = r["userInfo"]!["username"]!.GetValue<string>() == "jane" ? WebhookServer.Deny("jane may not create pods") : WebhookServer.Allow();
            answer["warnings"] = new JsonArray("pods without a security group policy use the node's groups");
            return Task.FromResult(answer);
        };
        var webhooks = Path.Combine(Dir, "webhooks.yaml");
        var pod = Path.Combine(Dir, "pod.yaml");
        await File.WriteAllTextAsync(webhooks, ConfigurationsYaml(10));
        await File.WriteAllTextAsync(pod, PodYaml);
        await OkAsync("apply", "-f", webhooks);

        var (exit, _, stderr) = await KubectlAsync("--context", "user", "apply", "-f", pod);
        Assert.Equal(1, exit);
        Assert.Contains("Warning: pods without a security group policy use the node's groups", stderr, StringComparison.Ordinal);
        Assert.Contains(
            $"Error from server: error when creating \"{pod}\": admission webhook \"vpod.branch-eni.test\" denied the request: jane may not create pods",
            stderr, StringComparison.Ordinal);
        Assert.Empty(await PodNamesAsync());

        (exit, var stdout, stderr) = await KubectlAsync("--context", "agent", "apply", "-f", pod);
        Assert.Equal(0, exit);
        Assert.Equal("pod/red created", stdout);
        Assert.Contains("Warning: pods without a security group policy use the node's groups", stderr, StringComparison.Ordinal);
        // kubectl sends no bearer token over plain http; the contexts' impersonation fields carry the same identities.
        Assert.Equal(
            [
                """{"username":"jane","groups":["system:authenticated"]}""",
                $$"""{"username":"system:serviceaccount:kube-system:branch-eni","uid":"{{Sandbox.Identities.Agent.Uid}}","groups":["system:serviceaccounts","system:serviceaccounts:kube-system","system:authenticated"]}""",
            ],
            Webhooks.CallsTo("/validate-v1-pod").Select(r => r["userInfo"]!.ToJsonString()));
    }
}
