using System.Text.Json;

namespace BranchEni.Policy.Tests;

public sealed class SecurityGroupAnnotationTests
{
    private const string A = "sg-0a1b2c3d4e5f62002";
    private const string B = "sg-0123abcd";

    private static readonly SecurityGroupAnnotationSettings On = SecurityGroupAnnotationSettings.Of(true, "");

    private static SecurityGroupPolicy Sgp(string name, string groups) =>
        SecurityGroupPolicy.Parse(JsonDocument.Parse(
            $$"""{"metadata": {"name": "{{name}}", "namespace": "app"}, "spec": {"podSelector": {}, "securityGroups": {"groupIds": {{groups}} """ + "}}}").RootElement);

    private static PolicyPod Pod(string? annotation, string ns = "app") => new(ns, null, "default", null, annotation);

    [Fact]
    public void Parses_ids_in_order_without_duplicates()
    {
        Assert.Equal([A, B], SecurityGroupAnnotation.Parse($"""["{A}", "{B}", "{A}"]"""));
    }

    [Theory]
    [InlineData("[\"sg-1\"]", "is not a security group id")]
    [InlineData("not json", "it is not JSON")]
    [InlineData("{\"a\": 1}", "it is a JSON object")]
    [InlineData("\"sg-0123abcd\"", "it is a JSON string")]
    [InlineData("[]", "it is empty")]
    [InlineData("[1]", "element 0 is a JSON number, not a string")]
    [InlineData("[\"sg-0123abcd\", \"SG-0123ABCD\"]", "element 1 \"SG-0123ABCD\" is not a security group id")]
    [InlineData("[\"sg-0123abcg\"]", "is not a security group id")]
    [InlineData("[\"sg-0123abcd0\"]", "is not a security group id")]
    public void Malformed_values_are_refused_saying_why(string value, string expected)
    {
        var e = Assert.Throws<FormatException>(() => SecurityGroupAnnotation.Parse(value));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.Contains(TigeraNames.SecurityGroupsAnnotation, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_annotated_pod_needs_a_branch_with_the_annotations_groups_when_enabled()
    {
        var decision = BranchDecision.For(Pod($"""["{A}"]"""), false, [], On);
        Assert.True(decision.NeedsBranch);
        Assert.True(decision.PlacedByAnnotation);
        Assert.Equal([A], decision.GroupIds);
        Assert.Contains(TigeraNames.SecurityGroupsAnnotation, decision.Reason, StringComparison.Ordinal);
        Assert.Equal($"annotation {TigeraNames.SecurityGroupsAnnotation}", decision.Source);
    }

    [Fact]
    public void The_groups_are_the_policies_then_the_annotations_deduplicated()
    {
        var decision = BranchDecision.For(Pod($"""["{B}", "{A}"]"""), false, [Sgp("p", $"""["{A}", "sg-1"]""")], On);
        Assert.Equal([A, "sg-1", B], decision.GroupIds);
        Assert.Equal(["p"], decision.Selection.Policies);
        Assert.True(decision.PlacedByAnnotation);
        Assert.Contains("SecurityGroupPolicy p selects it and its aws.tigera.io/security-groups annotation", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Disabled_the_annotation_changes_nothing_and_the_reason_says_so()
    {
        var decision = BranchDecision.For(Pod($"""["{A}"]"""), false, [], SecurityGroupAnnotationSettings.Disabled);
        Assert.False(decision.NeedsBranch);
        Assert.False(decision.PlacedByAnnotation);
        Assert.Contains("ENABLE_SG_ANNOTATION is not true", decision.Reason, StringComparison.Ordinal);
        Assert.False(BranchDecision.For(Pod($"""["{A}"]"""), false, []).NeedsBranch);
    }

    [Fact]
    public void Outside_the_namespace_allowlist_the_annotation_is_ignored()
    {
        var settings = SecurityGroupAnnotationSettings.Of(true, " web , db ");
        Assert.True(BranchDecision.For(Pod($"""["{A}"]""", "db"), false, [], settings).NeedsBranch);
        var other = BranchDecision.For(Pod($"""["{A}"]""", "app"), false, [], settings);
        Assert.False(other.NeedsBranch);
        Assert.Contains("namespace app is not in SG_ANNOTATION_NAMESPACES", other.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_malformed_honoured_annotation_fails_closed_without_groups()
    {
        var decision = BranchDecision.For(Pod("[\"sg-x\"]"), false, [Sgp("p", $"""["{A}"]""")], On);
        Assert.True(decision.NeedsBranch);
        Assert.Empty(decision.GroupIds);
        Assert.StartsWith("its aws.tigera.io/security-groups annotation is invalid", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_pod_without_the_annotation_is_decided_as_before()
    {
        var decision = BranchDecision.For(Pod(null), false, [Sgp("p", $"""["{A}"]""")], On);
        Assert.Equal([A], decision.GroupIds);
        Assert.False(decision.PlacedByAnnotation);
        Assert.Equal("SecurityGroupPolicy p selects it", decision.Reason);
    }
}
