using System.Text.Json.Nodes;
using BranchEni.Sandbox.Hosting;
using BranchEni.Sandbox.Kubernetes;
using BranchEni.Sandbox.Kubernetes.Admission;

namespace BranchEni.Sandbox.Tests.Units;

/// <summary>Webhook rule and label selector matching on their own, where the edge cases are cheap to enumerate.</summary>
public sealed class WebhookMatcherTests
{
    private static AdmissionAttributes Request(ResourceType type, string operation = "CREATE", string? subresource = null) => new(
        operation, type, subresource, type.Namespaced ? "default" : null, "x",
        new JsonObject { ["metadata"] = new JsonObject { ["name"] = "x" } }, null,
        new SandboxIdentities().Admin, false, new JsonObject(), _ => { });

    private static WebhookRule Rule(string resources, string operations = "*", string groups = "", string versions = "v1", string scope = "*") =>
        new(operations.Split(','), groups.Split(','), versions.Split(','), resources.Split(','), scope);

    [Theory]
    [InlineData("pods", null, true)]
    [InlineData("pods", "status", false)]
    [InlineData("pods/status", null, false)]
    [InlineData("pods/status", "status", true)]
    [InlineData("pods/*", null, true)]
    [InlineData("pods/*", "status", true)]
    [InlineData("*", null, true)]
    [InlineData("*", "status", false)]
    [InlineData("*/status", "status", true)]
    [InlineData("*/*", "status", true)]
    [InlineData("nodes,pods", null, true)]
    [InlineData("nodes", null, false)]
    public void Resources_name_subresources_explicitly(string resources, string? subresource, bool expected) =>
        Assert.Equal(expected, WebhookMatcher.Matches(Rule(resources), Request(ResourceTypes.Pods, "UPDATE", subresource)));

    [Theory]
    [InlineData("CREATE", "CREATE", true)]
    [InlineData("UPDATE", "CREATE", false)]
    [InlineData("CREATE,UPDATE", "UPDATE", true)]
    [InlineData("*", "UPDATE", true)]
    public void Operations_must_include_the_requests(string operations, string operation, bool expected) =>
        Assert.Equal(expected, WebhookMatcher.Matches(Rule("pods", operations), Request(ResourceTypes.Pods, operation)));

    [Fact]
    public void Groups_versions_and_scope_must_fit_the_resource()
    {
        Assert.False(WebhookMatcher.Matches(Rule("pods", groups: "apps"), Request(ResourceTypes.Pods)));
        Assert.False(WebhookMatcher.Matches(Rule("pods", versions: "v1beta1"), Request(ResourceTypes.Pods)));
        Assert.True(WebhookMatcher.Matches(Rule("*", groups: "*", versions: "*"), Request(ResourceTypes.Leases)));
        Assert.True(WebhookMatcher.Matches(Rule("pods", scope: "Namespaced"), Request(ResourceTypes.Pods)));
        Assert.False(WebhookMatcher.Matches(Rule("pods", scope: "Cluster"), Request(ResourceTypes.Pods)));
        Assert.True(WebhookMatcher.Matches(Rule("nodes", scope: "Cluster"), Request(ResourceTypes.Nodes)));
        Assert.False(WebhookMatcher.Matches(Rule("namespaces", scope: "Namespaced"), Request(ResourceTypes.Namespaces)));
    }

    [Theory]
    [InlineData("""{}""", """{"app":"x"}""", true)]
    [InlineData("""{"matchLabels":{"app":"green"}}""", """{"app":"green","tier":"web"}""", true)]
    [InlineData("""{"matchLabels":{"app":"green"}}""", """{"app":"red"}""", false)]
    [InlineData("""{"matchExpressions":[{"key":"env","operator":"In","values":["prod","staging"]}]}""", """{"env":"prod"}""", true)]
    [InlineData("""{"matchExpressions":[{"key":"env","operator":"NotIn","values":["prod"]}]}""", """{}""", true)]
    [InlineData("""{"matchExpressions":[{"key":"env","operator":"Exists"}]}""", """{}""", false)]
    [InlineData("""{"matchExpressions":[{"key":"env","operator":"DoesNotExist"}]}""", """{}""", true)]
    [InlineData("""{"matchLabels":{"a":"1"},"matchExpressions":[{"key":"b","operator":"Exists"}]}""", """{"a":"1"}""", false)]
    public void Label_selector_objects_need_every_requirement(string selector, string labels, bool expected)
    {
        var parsed = JsonNode.Parse(labels)!.AsObject().ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<string>());
        Assert.Equal(expected, LabelSelectors.Matches(JsonNode.Parse(selector)!.AsObject(), parsed));
    }

    [Theory]
    [InlineData("""{"matchExpressions":[{"key":"env","operator":"In"}]}""", "s.matchExpressions[0].values: Required value")]
    [InlineData("""{"matchExpressions":[{"key":"env","operator":"Exists","values":["x"]}]}""", "s.matchExpressions[0].values: Forbidden")]
    [InlineData("""{"matchExpressions":[{"key":"env","operator":"Near"}]}""", "s.matchExpressions[0].operator: Invalid value: \"Near\"")]
    [InlineData("""{"matchLabels":{"a":{"b":1}}}""", "s.matchLabels: Invalid value")]
    public void Invalid_selectors_name_the_field(string selector, string problem) =>
        Assert.StartsWith(problem, LabelSelectors.Problem(JsonNode.Parse(selector)!.AsObject(), "s"), StringComparison.Ordinal);
}
