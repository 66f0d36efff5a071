namespace BranchEni.Policy.Tests;

public sealed class MetadataAccessPolicyTests
{
    private static Dictionary<string, string> Label(string value) => new() { [TigeraNames.AllowMetadataAccessLabel] = value };

    [Fact]
    public void Without_a_label_or_default_annotation_pods_are_denied_and_policy_pods_allowed()
    {
        Assert.Equal(MetadataAccess.Denied, MetadataAccessPolicy.For(null, null, placedByAnnotation: true));
        Assert.Equal(MetadataAccess.Allowed, MetadataAccessPolicy.For(new Dictionary<string, string>(), null, placedByAnnotation: false));
    }

    [Fact]
    public void The_cluster_default_applies_to_both_kinds_of_pod()
    {
        Assert.Equal(MetadataAccess.Denied, MetadataAccessPolicy.For(null, MetadataAccess.Denied, placedByAnnotation: false));
        Assert.Equal(MetadataAccess.Allowed, MetadataAccessPolicy.For(null, MetadataAccess.Allowed, placedByAnnotation: true));
    }

    [Fact]
    public void The_label_wins_over_any_default_and_only_true_allows()
    {
        Assert.Equal(MetadataAccess.Allowed, MetadataAccessPolicy.For(Label("true"), MetadataAccess.Denied, placedByAnnotation: true));
        Assert.Equal(MetadataAccess.Denied, MetadataAccessPolicy.For(Label("false"), MetadataAccess.Allowed, placedByAnnotation: false));
        Assert.Equal(MetadataAccess.Denied, MetadataAccessPolicy.For(Label("True "), MetadataAccess.Allowed, placedByAnnotation: false));
    }

    [Theory]
    [InlineData("", true, null)]
    [InlineData("denied", true, MetadataAccess.Denied)]
    [InlineData("Allowed", true, MetadataAccess.Allowed)]
    [InlineData("open", false, null)]
    [InlineData("1", false, null)]
    public void Settings_parse_by_name_only(string text, bool ok, MetadataAccess? expected)
    {
        Assert.Equal(ok, MetadataAccessPolicy.TryParseSetting(text, out var value));
        Assert.Equal(expected, value);
    }
}
