using System.Text.Json.Nodes;
using BranchEni.Sandbox.Ec2.Model;
using BranchEni.Sandbox.Ec2.Protocol;
using BranchEni.Sandbox.Kubernetes;

namespace BranchEni.Sandbox.Tests.Units;

/// <summary>The parsing and merging rules on their own, where the edge cases are cheap to enumerate.</summary>
public sealed class SelectorAndPatchTests
{
    private static JsonObject PodWith(string labels) =>
        JsonNode.Parse($$$"""{"metadata":{"name":"p","labels":{{{labels}}} },"spec":{"nodeName":"n1"},"status":{"phase":"Running"}}""")!.AsObject();

    [Theory]
    [InlineData("app=green", """{"app":"green"}""", true)]
    [InlineData("app==green,tier!=db", """{"app":"green","tier":"web"}""", true)]
    [InlineData("app!=green", """{}""", true)]
    [InlineData("app in (green, blue)", """{"app":"blue"}""", true)]
    [InlineData("app notin (green,blue)", """{"app":"blue"}""", false)]
    [InlineData("app notin (green,blue)", """{}""", true)]
    [InlineData("tier", """{"app":"x"}""", false)]
    [InlineData("!tier", """{"app":"x"}""", true)]
    [InlineData("app in (a,b),!tier,env=prod", """{"app":"a","env":"prod"}""", true)]
    public void Label_selectors_follow_the_api_servers_grammar(string selector, string labels, bool expected) =>
        Assert.Equal(expected, Selectors.Compile(ResourceTypes.Pods, selector, null)(PodWith(labels)));

    [Theory]
    [InlineData("spec.nodeName=n1", true)]
    [InlineData("spec.nodeName==n2", false)]
    [InlineData("spec.nodeName!=n2,status.phase=Running", true)]
    [InlineData("metadata.name=p", true)]
    public void Field_selectors_read_the_supported_fields(string selector, bool expected) =>
        Assert.Equal(expected, Selectors.Compile(ResourceTypes.Pods, null, selector)(PodWith("{}")));

    [Fact]
    public void Unsupported_field_labels_are_refused()
    {
        var e = Assert.Throws<KubeException>(() => Selectors.Compile(ResourceTypes.Nodes, null, "spec.nodeName=n1"));
        Assert.Equal(400, e.Code);
    }

    [Fact]
    public void Merge_patch_deletes_with_null_and_replaces_lists()
    {
        var target = JsonNode.Parse("""{"a":{"b":1,"c":2},"l":[1,2],"k":"v"}""");
        var result = Patching.MergePatch(target, JsonNode.Parse("""{"a":{"b":null,"d":3},"l":[3]}"""));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"a":{"c":2,"d":3},"l":[3],"k":"v"}"""), result));
    }

    [Fact]
    public void Strategic_merge_merges_named_lists_and_honours_delete_directives()
    {
        var target = JsonNode.Parse("""{"containers":[{"name":"a","image":"x"},{"name":"b","image":"y"}],"conditions":[{"type":"Ready","status":"False"}],"args":["1"]}""");
        var patch = JsonNode.Parse("""
            {"containers":[{"name":"a","image":"x2"},{"name":"b","$patch":"delete"},{"name":"c","image":"z"}],
             "conditions":[{"type":"Ready","status":"True"}],"args":["2"],"$setElementOrder/containers":[{"name":"a"}]}
            """);
        var result = Patching.StrategicMerge(target, patch);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""
            {"containers":[{"name":"a","image":"x2"},{"name":"c","image":"z"}],"conditions":[{"type":"Ready","status":"True"}],"args":["2"]}
            """), result), result!.ToJsonString());
    }

    [Fact]
    public void Json_patch_supports_every_operation_and_fails_whole_on_a_bad_test()
    {
        var target = JsonNode.Parse("""{"a":{"b":1},"l":[1,2]}""")!;
        var ops = JsonNode.Parse("""
            [{"op":"add","path":"/l/-","value":3},{"op":"replace","path":"/a/b","value":5},{"op":"copy","from":"/a","path":"/c"},
             {"op":"move","from":"/l/0","path":"/first"},{"op":"remove","path":"/a"},{"op":"test","path":"/c/b","value":5},
             {"op":"add","path":"/d~1e","value":true}]
            """)!.AsArray();
        var result = Patching.ApplyJsonPatch(target, ops);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"l":[2,3],"c":{"b":5},"first":1,"d/e":true}"""), result), result.ToJsonString());

        var failing = JsonNode.Parse("""[{"op":"add","path":"/x","value":1},{"op":"test","path":"/a/b","value":9}]""")!.AsArray();
        Assert.Equal(422, Assert.Throws<KubeException>(() => Patching.ApplyJsonPatch(target, failing)).Code);
        Assert.Null(target["x"]);
    }

    [Fact]
    public void Address_pools_skip_the_five_addresses_ec2_reserves()
    {
        var pool = new AddressPool("10.0.0.0/28");
        var given = Enumerable.Range(0, 11).Select(_ => pool.Allocate()!.ToString()).ToList();
        Assert.Equal("10.0.0.4", given[0]);
        Assert.Equal("10.0.0.14", given[^1]);
        Assert.Null(pool.Allocate());
        Assert.False(pool.TryClaim(System.Net.IPAddress.Parse("10.0.0.15")));
        Assert.Throws<ArgumentException>(() => new AddressPool("10.0.0.0/29"));
        Assert.Throws<ArgumentException>(() => new AddressPool("10.0.0.0/33"));
    }

    [Theory]
    [InlineData("sg-*", "sg-123", true)]
    [InlineData("aws-k8s-?runk-eni", "aws-k8s-trunk-eni", true)]
    [InlineData("a*c", "abd", false)]
    [InlineData("a\\*", "a*", true)]
    [InlineData("a\\*", "ab", false)]
    public void Ec2_filter_wildcards_match_like_ec2(string pattern, string value, bool expected) =>
        Assert.Equal(expected, FilterSet<string>.Glob(pattern, value));
}
