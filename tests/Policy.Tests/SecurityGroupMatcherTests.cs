using System.Text.Json;

namespace BranchEni.Policy.Tests;

public sealed class SecurityGroupMatcherTests
{
    private static SecurityGroupPolicy Sgp(string json) => SecurityGroupPolicy.Parse(JsonDocument.Parse(json).RootElement);

    private static SecurityGroupPolicy Sgp(string name, string spec, string ns = "app") =>
        Sgp($$"""{"metadata": {"name": "{{name}}", "namespace": "{{ns}}"}, "spec": {{spec}}}""");

    private static PolicyPod Pod(string labels = "", string sa = "default", string saLabels = "", string ns = "app") =>
        new(ns, Labels(labels), sa, Labels(saLabels));

    private static Dictionary<string, string> Labels(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(p => p.Split('=')).ToDictionary(p => p[0], p => p[1]);

    private static IReadOnlyList<string> Groups(PolicyPod pod, params SecurityGroupPolicy[] sgps) => SecurityGroupMatcher.Select(pod, sgps).GroupIds;

    [Fact]
    public void Pod_selector_with_match_labels()
    {
        var sgp = Sgp("green", """{"podSelector": {"matchLabels": {"role": "green"}}, "securityGroups": {"groupIds": ["sg-1"]}}""");
        Assert.Equal(["sg-1"], Groups(Pod("role=green"), sgp));
        Assert.Empty(Groups(Pod("role=red"), sgp));
        Assert.Empty(Groups(Pod(), sgp));
    }

    [Fact]
    public void Service_account_selector_matches_the_service_accounts_labels()
    {
        var sgp = Sgp("sa", """{"serviceAccountSelector": {"matchLabels": {"team": "db"}}, "securityGroups": {"groupIds": ["sg-2"]}}""");
        Assert.Equal(["sg-2"], Groups(Pod(sa: "x", saLabels: "team=db"), sgp));
        Assert.Empty(Groups(Pod(labels: "team=db", sa: "x"), sgp));
    }

    [Fact]
    public void Both_selectors_set_must_both_match()
    {
        var sgp = Sgp("both", """{"podSelector": {"matchLabels": {"app": "a"}}, "serviceAccountSelector": {"matchLabels": {"team": "db"}}, "securityGroups": {"groupIds": ["sg-3"]}}""");
        Assert.Equal(["sg-3"], Groups(Pod("app=a", saLabels: "team=db"), sgp));
        Assert.Empty(Groups(Pod("app=a"), sgp));
        Assert.Empty(Groups(Pod(saLabels: "team=db"), sgp));
    }

    [Fact]
    public void Several_policies_give_the_union_deduplicated_in_order()
    {
        var a = Sgp("a", """{"podSelector": {}, "securityGroups": {"groupIds": ["sg-1", "sg-2"]}}""");
        var b = Sgp("b", """{"podSelector": {"matchLabels": {"x": "y"}}, "securityGroups": {"groupIds": ["sg-2", "sg-3", "sg-1"]}}""");
        var selection = SecurityGroupMatcher.Select(Pod("x=y"), [b, a]);
        Assert.Equal(["sg-1", "sg-2", "sg-3"], selection.GroupIds);
        Assert.Equal(["a", "b"], selection.Policies);
    }

    [Fact]
    public void No_policy_selects_nothing()
    {
        Assert.Empty(Groups(Pod("role=green")));
    }

    [Fact]
    public void Only_policies_of_the_pods_namespace_count()
    {
        var other = Sgp("g", """{"podSelector": {}, "securityGroups": {"groupIds": ["sg-9"]}}""", ns: "other");
        Assert.Empty(Groups(Pod(), other));
        Assert.Equal(["sg-9"], Groups(Pod(ns: "other"), other));
    }

    [Fact]
    public void A_policy_without_selectors_or_groups_is_ignored()
    {
        var noSelector = Sgp("n", """{"securityGroups": {"groupIds": ["sg-1"]}}""");
        var noGroups = Sgp("g", """{"podSelector": {}, "securityGroups": {"groupIds": []}}""");
        Assert.Equal("it sets neither podSelector nor serviceAccountSelector", noSelector.IgnoredBecause);
        Assert.Equal("spec.securityGroups.groupIds is empty", noGroups.IgnoredBecause);
        Assert.Empty(Groups(Pod(), noSelector, noGroups));
    }

    [Theory]
    [InlineData("""{"key": "tier", "operator": "In", "values": ["db", "cache"]}""", "tier=db", true)]
    [InlineData("""{"key": "tier", "operator": "In", "values": ["db"]}""", "tier=web", false)]
    [InlineData("""{"key": "tier", "operator": "In", "values": ["db"]}""", "", false)]
    [InlineData("""{"key": "tier", "operator": "NotIn", "values": ["db"]}""", "tier=web", true)]
    [InlineData("""{"key": "tier", "operator": "NotIn", "values": ["db"]}""", "", true)]
    [InlineData("""{"key": "tier", "operator": "NotIn", "values": ["db"]}""", "tier=db", false)]
    [InlineData("""{"key": "tier", "operator": "Exists"}""", "tier=x", true)]
    [InlineData("""{"key": "tier", "operator": "Exists"}""", "", false)]
    [InlineData("""{"key": "tier", "operator": "DoesNotExist"}""", "", true)]
    [InlineData("""{"key": "tier", "operator": "DoesNotExist"}""", "tier=x", false)]
    public void Match_expressions_follow_kubernetes(string expression, string labels, bool matches)
    {
        var sgp = Sgp("e", $$$"""{"podSelector": {"matchExpressions": [{{{expression}}}]}, "securityGroups": {"groupIds": ["sg-1"]}}""");
        Assert.Equal(matches, Groups(Pod(labels), sgp).Count == 1);
    }

    [Fact]
    public void Match_labels_and_expressions_are_anded()
    {
        var sgp = Sgp("e", """{"podSelector": {"matchLabels": {"a": "1"}, "matchExpressions": [{"key": "b", "operator": "Exists"}]}, "securityGroups": {"groupIds": ["sg-1"]}}""");
        Assert.Single(Groups(Pod("a=1,b=2"), sgp));
        Assert.Empty(Groups(Pod("a=1"), sgp));
        Assert.Empty(Groups(Pod("b=2"), sgp));
    }

    [Theory]
    [InlineData("""{"metadata": {"name": "x"}, "spec": {}}""", "metadata.namespace is missing")]
    [InlineData("""{"metadata": {"name": "x", "namespace": "a"}}""", "spec is missing or not an object")]
    [InlineData("""{"metadata": {"name": "x", "namespace": "a"}, "spec": {"podSelector": {"matchExpressions": [{"key": "k", "operator": "In"}]}}}""", "spec.podSelector.matchExpressions[0]: operator In needs at least one value")]
    [InlineData("""{"metadata": {"name": "x", "namespace": "a"}, "spec": {"podSelector": {"matchExpressions": [{"key": "k", "operator": "Gt", "values": ["1"]}]}}}""", "spec.podSelector.matchExpressions[0].operator 'Gt' is not In, NotIn, Exists or DoesNotExist")]
    [InlineData("""{"metadata": {"name": "x", "namespace": "a"}, "spec": {"podSelector": {"matchLabels": {"k": 1}}}}""", "spec.podSelector.matchLabels.k is not a string")]
    [InlineData("""{"metadata": {"name": "x", "namespace": "a"}, "spec": {"podSelector": {}, "securityGroups": {"groupIds": ["web"]}}}""", "spec.securityGroups.groupIds holds 'web', not a security group id (sg-...)")]
    [InlineData("""{"metadata": {"name": "x", "namespace": "a"}, "spec": {"serviceAccountSelector": "all"}}""", "spec.serviceAccountSelector is not an object")]
    public void Bad_policies_are_refused_naming_the_field(string json, string message)
    {
        var e = Assert.Throws<PolicyFormatException>(() => Sgp(json));
        Assert.Equal(message, e.Message);
    }
}
