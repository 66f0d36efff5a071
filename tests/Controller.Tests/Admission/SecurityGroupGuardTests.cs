using BranchEni.Controller.Admission;
using BranchEni.Policy;

namespace BranchEni.Controller.Tests.Admission;

/// <summary>The validating webhook's rules for Calico's names, decided on AdmissionReviews.</summary>
public sealed class SecurityGroupGuardTests
{
    private const string Agent = "system:serviceaccount:kube-system:branch-eni";
    private static readonly string[] Agents = [Agent];
    private static readonly SecurityGroupAnnotationSettings InApp = SecurityGroupAnnotationSettings.Of(true, "app");

    private static string Pod(string? groups = null, string labels = "{}", bool branch = false)
    {
        var annotations = new List<string>();
        if (groups is not null)
        {
            annotations.Add($"\"aws.tigera.io/security-groups\": {System.Text.Json.JsonSerializer.Serialize(groups, AnnotationJson.Default.String)}");
        }

        if (branch)
        {
            annotations.Add("\"vpc.amazonaws.com/pod-eni\": \"[]\"");
        }

        return $$$"""{"metadata": {"name": "p", "labels": {{{labels}}}, "annotations": { {{{string.Join(", ", annotations)}}} }}, "spec": {"containers": [{"name": "c"}]}}""";
    }

    [Fact]
    public void A_malformed_annotation_is_refused_at_create_only_where_the_annotation_counts()
    {
        var refused = SecurityGroupGuard.Decide(PodEniInjectorTests.Request(Pod("[\"sg-1\"]")), Agents, InApp);
        Assert.False(refused.Allowed);
        Assert.Contains("element 0 \"sg-1\" is not a security group id", refused.Message, StringComparison.Ordinal);

        // Elsewhere (or with the feature off) the annotation is not branch-eni's: other software may own it.
        Assert.True(SecurityGroupGuard.Decide(PodEniInjectorTests.Request(Pod("[\"sg-1\"]"), ns: "other"), Agents, InApp).Allowed);
        Assert.True(SecurityGroupGuard.Decide(PodEniInjectorTests.Request(Pod("[\"sg-1\"]")), Agents, SecurityGroupAnnotationSettings.Disabled).Allowed);
        Assert.True(SecurityGroupGuard.Decide(PodEniInjectorTests.Request(Pod("[\"sg-0123abcd\"]")), Agents, InApp).Allowed);
    }

    [Fact]
    public void Every_change_of_the_annotation_on_an_existing_pod_is_refused_saying_why()
    {
        var add = SecurityGroupGuard.Decide(PodEniInjectorTests.Request(Pod("[\"sg-0123abcd\"]"), "UPDATE", oldPod: Pod()), Agents, InApp);
        Assert.Contains("the pod has no branch ENI", add.Message, StringComparison.Ordinal);
        var change = SecurityGroupGuard.Decide(
            PodEniInjectorTests.Request(Pod("[\"sg-0123abce\"]", branch: true), "UPDATE", user: Agent, oldPod: Pod("[\"sg-0123abcd\"]", branch: true)), Agents, InApp);
        Assert.Equal("changing aws.tigera.io/security-groups on an existing pod is refused: live security-group changes are not supported yet; delete the pod and create it again with the groups it should have",
            change.Message);
        var same = SecurityGroupGuard.Decide(PodEniInjectorTests.Request(Pod("[\"sg-0123abcd\"]", "{\"a\": \"b\"}"), "UPDATE", oldPod: Pod("[\"sg-0123abcd\"]")), Agents, InApp);
        Assert.True(same.Allowed);
    }

    [Theory]
    [InlineData("{}", "{\"sg.aws.tigera.io/sg-0123abcd\": \"\"}", "add sg.aws.tigera.io/sg-0123abcd")]
    [InlineData("{\"sg.aws.tigera.io/sg-0123abcd\": \"\"}", "{}", "remove sg.aws.tigera.io/sg-0123abcd")]
    [InlineData("{\"sg.aws.tigera.io/sg-0123abcd\": \"\"}", "{\"sg.aws.tigera.io/sg-0123abcd\": \"x\"}", "change sg.aws.tigera.io/sg-0123abcd")]
    public void Sg_labels_are_the_agents_even_where_the_annotation_is_off(string before, string after, string what)
    {
        var byUser = SecurityGroupGuard.Decide(PodEniInjectorTests.Request(Pod(labels: after), "UPDATE", oldPod: Pod(labels: before)), Agents, SecurityGroupAnnotationSettings.Disabled);
        Assert.False(byUser.Allowed);
        Assert.EndsWith($"user \"jane\" may not {what}", byUser.Message, StringComparison.Ordinal);
        Assert.True(SecurityGroupGuard.Decide(PodEniInjectorTests.Request(Pod(labels: after), "UPDATE", user: Agent, oldPod: Pod(labels: before)), Agents, SecurityGroupAnnotationSettings.Disabled).Allowed);
    }
}
