using System.Text.Json.Nodes;
using BranchEni.Controller.Tls;
using BranchEni.Kube;

namespace BranchEni.Controller.Tests.Tls;

/// <summary>What the controller changes in its webhook configurations (the patch itself is sent by the sandbox tests).</summary>
public sealed class WebhookConfigurationsTests
{
    private const string Manifest = """
        {"metadata": {"name": "branch-eni", "resourceVersion": "7"}, "webhooks": [
          {"name": "pod-eni.branch-eni.k8s.aws", "failurePolicy": "Ignore",
           "clientConfig": {"service": {"namespace": "kube-system", "name": "branch-eni-controller", "path": "/mutate-v1-pod", "port": 443}}}]}
        """;

    private static WebhookConfigurations For(WebhookEndpoint endpoint) =>
        new(new KubeConnection(new k8s.Kubernetes(new k8s.KubernetesClientConfiguration { Host = "http://127.0.0.1:1" })), endpoint, Serilog.Core.Logger.None);

    [Fact]
    public void With_a_url_the_client_config_becomes_url_plus_ca_bundle_keeping_the_path()
    {
        var patch = For(new WebhookEndpoint(null, null, new Uri("https://127.0.0.1:9443"))).Desired(JsonNode.Parse(Manifest)!.AsObject(), "Q0E=", WebhookEndpoint.MutatePath)!;

        Assert.Equal("7", patch["metadata"]!["resourceVersion"]!.GetValue<string>());
        var webhook = Assert.Single(patch["webhooks"]!.AsArray())!;
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"url": "https://127.0.0.1:9443/mutate-v1-pod", "caBundle": "Q0E="}"""), webhook["clientConfig"]));
        Assert.Equal("Ignore", webhook["failurePolicy"]!.GetValue<string>());
    }

    [Fact]
    public void With_a_service_the_reference_stays_and_only_the_ca_bundle_is_set_once()
    {
        var configurations = For(new WebhookEndpoint("kube-system", "branch-eni-controller", null));
        var manifest = JsonNode.Parse(Manifest)!.AsObject();
        var patch = configurations.Desired(manifest, "Q0E=", WebhookEndpoint.MutatePath)!;

        var config = patch["webhooks"]![0]!["clientConfig"]!;
        Assert.Equal("Q0E=", config["caBundle"]!.GetValue<string>());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(Manifest)!["webhooks"]![0]!["clientConfig"]!["service"], config["service"]));

        // Applied, it is what we want: nothing more to patch.
        manifest["webhooks"] = patch["webhooks"]!.DeepClone();
        Assert.Null(configurations.Desired(manifest, "Q0E=", WebhookEndpoint.MutatePath));
        Assert.NotNull(configurations.Desired(manifest, "TkVX", WebhookEndpoint.MutatePath));
    }
}
