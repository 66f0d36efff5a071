using System.Text.Json;
using System.Text.Json.Nodes;
using BranchEni.Controller.Admission;

namespace BranchEni.Controller.Tests.Admission;

/// <summary>The validating webhook: only the node agents write the pod-eni annotation.</summary>
public sealed class AnnotationGuardTests
{
    private const string Agent = "system:serviceaccount:kube-system:branch-eni";
    private static readonly string[] Agents = [Agent];

    private static string Pod(string? annotation) => annotation is null
        ? """{"metadata": {"name": "p", "annotations": {"other": "x"}}, "spec": {"containers": [{"name": "c"}]}}"""
        : $$$"""{"metadata": {"name": "p", "annotations": {"vpc.amazonaws.com/pod-eni": {{{JsonSerializer.Serialize(annotation, AnnotationJson.Default.String)}}}}}, "spec": {"containers": [{"name": "c"}]}}""";

    [Fact]
    public void A_pod_created_with_the_annotation_is_denied_naming_the_owner_and_the_user()
    {
        var verdict = AnnotationGuard.Decide(PodEniInjectorTests.Request(Pod("[]")), Agents);
        Assert.False(verdict.Allowed);
        Assert.Equal(403, verdict.Code);
        Assert.Equal($"the vpc.amazonaws.com/pod-eni annotation is written only by the branch-eni node agents ({Agent}); a pod may not be created with it (user \"jane\")", verdict.Message);
        Assert.True(AnnotationGuard.Decide(PodEniInjectorTests.Request(Pod(null)), Agents).Allowed);
    }

    [Theory]
    [InlineData(null, "[{\"eniId\":\"eni-1\"}]", "add")]
    [InlineData("[{\"eniId\":\"eni-1\"}]", "[{\"eniId\":\"eni-2\"}]", "change")]
    [InlineData("[{\"eniId\":\"eni-1\"}]", null, "remove")]
    public void An_update_touching_the_annotation_is_denied_to_users_and_allowed_to_the_agent(string? before, string? after, string verb)
    {
        var byUser = AnnotationGuard.Decide(PodEniInjectorTests.Request(Pod(after), "UPDATE", oldPod: Pod(before)), Agents);
        Assert.False(byUser.Allowed);
        Assert.EndsWith($"; user \"jane\" may not {verb} it", byUser.Message, StringComparison.Ordinal);

        Assert.True(AnnotationGuard.Decide(PodEniInjectorTests.Request(Pod(after), "UPDATE", user: Agent, oldPod: Pod(before)), Agents).Allowed);
    }

    [Fact]
    public void An_update_leaving_the_annotation_as_it_was_is_allowed_to_anyone()
    {
        Assert.True(AnnotationGuard.Decide(PodEniInjectorTests.Request(Pod("[1]"), "UPDATE", oldPod: Pod("[1]")), Agents).Allowed);
        Assert.True(AnnotationGuard.Decide(PodEniInjectorTests.Request(Pod(null), "UPDATE", oldPod: Pod(null)), Agents).Allowed);
    }

    [Fact]
    public void The_denial_review_carries_status_code_reason_and_message()
    {
        var verdict = AnnotationGuard.Decide(PodEniInjectorTests.Request(Pod("[]")), Agents);
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            verdict.WriteReview(json, "u-9");
        }

        var response = JsonNode.Parse(stream.ToArray())!["response"]!;
        Assert.False(response["allowed"]!.GetValue<bool>());
        Assert.Null(response["patch"]);
        Assert.Equal(403, response["status"]!["code"]!.GetValue<int>());
        Assert.Equal(verdict.Message, response["status"]!["message"]!.GetValue<string>());
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal sealed partial class AnnotationJson : System.Text.Json.Serialization.JsonSerializerContext;
