using BranchEni.Controller.Companions;
using k8s;
using k8s.Models;

namespace BranchEni.Controller.Tests.Companions;

public sealed class CompanionPlannerTests
{
    private const string Db = "sg-0a1b2c3d4e5f62003";
    private const string Web = "sg-0a1b2c3d4e5f62002";

    private static V1NetworkPolicy Policy(string json) => KubernetesJson.Deserialize<V1NetworkPolicy>(json);

    private static IReadOnlyList<string> Members(IReadOnlyList<string> groups) =>
        groups.SequenceEqual([Db]) ? ["10.0.0.9", "10.0.0.10"] : groups.SequenceEqual([Web, Db]) ? ["10.0.0.10"] : [];

    [Theory]
    [InlineData("""{"matchLabels": {"sg.aws.tigera.io/sg-0a1b2c3d4e5f62003": ""}}""", "sg-0a1b2c3d4e5f62003", true)]
    [InlineData("""{"matchExpressions": [{"key": "sg.aws.tigera.io/sg-0a1b2c3d4e5f62003", "operator": "Exists"}]}""", "sg-0a1b2c3d4e5f62003", true)]
    [InlineData("""{"matchExpressions": [{"key": "sg.aws.tigera.io/sg-0a1b2c3d4e5f62003", "operator": "In", "values": [""]}]}""", "sg-0a1b2c3d4e5f62003", true)]
    [InlineData("""{"matchLabels": {"sg.aws.tigera.io/sg-0a1b2c3d4e5f62003": "", "sg.aws.tigera.io/sg-0a1b2c3d4e5f62002": ""}}""", "sg-0a1b2c3d4e5f62002,sg-0a1b2c3d4e5f62003", true)]
    // Pods only: instances carry no app label, and "not in a group" is not a set of VPC members.
    [InlineData("""{"matchLabels": {"sg.aws.tigera.io/sg-0a1b2c3d4e5f62003": "", "app": "db"}}""", "sg-0a1b2c3d4e5f62003", false)]
    [InlineData("""{"matchLabels": {"sg.aws.tigera.io/sg-0a1b2c3d4e5f62003": ""}, "matchExpressions": [{"key": "sg.aws.tigera.io/sg-0a1b2c3d4e5f62002", "operator": "DoesNotExist"}]}""", "sg-0a1b2c3d4e5f62003", false)]
    // No group at all: a non-empty value never matches, and a key that is not an sg- id is not a group.
    [InlineData("""{"matchLabels": {"sg.aws.tigera.io/sg-0a1b2c3d4e5f62003": "yes"}}""", "", false)]
    [InlineData("""{"matchLabels": {"sg.aws.tigera.io/not-a-group": ""}}""", "", false)]
    [InlineData("""{"matchLabels": {"app": "db"}}""", "", false)]
    public void A_selector_names_the_groups_it_requires_and_whether_VPC_members_can_match(string selector, string groups, bool vpc)
    {
        var analysis = SecurityGroupSelector.Analyze(KubernetesJson.Deserialize<V1LabelSelector>(selector));
        Assert.Equal(groups, string.Join(',', analysis.Groups));
        Assert.Equal(vpc, analysis.MatchesVpcMembers);
    }

    [Fact]
    public void The_companion_keeps_only_security_group_rules_with_cluster_wide_pods_and_member_addresses_and_the_ports()
    {
        var policy = Policy("""
            {"metadata": {"name": "db", "namespace": "app"}, "spec": {"podSelector": {"matchLabels": {"app": "db"}}, "policyTypes": ["Ingress"],
             "ingress": [
               {"from": [{"podSelector": {"matchLabels": {"sg.aws.tigera.io/sg-0a1b2c3d4e5f62003": ""}}}, {"podSelector": {"matchLabels": {"app": "web"}}}],
                "ports": [{"protocol": "TCP", "port": 5432}]},
               {"from": [{"podSelector": {"matchLabels": {"app": "other"}}}]},
               {"from": [{"namespaceSelector": {"matchLabels": {"team": "a"}}, "podSelector": {"matchLabels": {"sg.aws.tigera.io/sg-0a1b2c3d4e5f62002": "", "sg.aws.tigera.io/sg-0a1b2c3d4e5f62003": ""}}}]}]}}
            """);
        var spec = CompanionPlanner.Plan(policy.Spec, Members)!;

        Assert.Equal(["Ingress"], spec.PolicyTypes);
        Assert.Equal("db", spec.PodSelector.MatchLabels["app"]);
        Assert.Null(spec.Egress);
        Assert.Equal(2, spec.Ingress.Count);
        var first = spec.Ingress[0];
        Assert.Equal(5432, int.Parse(first.Ports.Single().Port.Value, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(3, first.FromProperty.Count);
        Assert.Equal(Db, SecurityGroupSelector.Analyze(first.FromProperty[0].PodSelector).Groups.Single());
        Assert.NotNull(first.FromProperty[0].NamespaceSelector);
        Assert.Empty(first.FromProperty[0].NamespaceSelector.MatchLabels ?? new Dictionary<string, string>());
        Assert.Equal(["10.0.0.10/32", "10.0.0.9/32"], first.FromProperty.Skip(1).Select(p => p.IpBlock.Cidr));

        // A peer that names its namespaces keeps them; the members of both groups are the intersection.
        var third = spec.Ingress[1];
        Assert.Equal("a", third.FromProperty[0].NamespaceSelector.MatchLabels["team"]);
        Assert.Equal(["10.0.0.10/32"], third.FromProperty.Skip(1).Select(p => p.IpBlock.Cidr));
        Assert.Null(third.Ports);
    }

    [Fact]
    public void Egress_rules_are_rewritten_and_unset_policy_types_get_the_Kubernetes_default()
    {
        var policy = Policy("""
            {"metadata": {"name": "web", "namespace": "app"}, "spec": {"podSelector": {},
             "egress": [{"to": [{"podSelector": {"matchExpressions": [{"key": "sg.aws.tigera.io/sg-0a1b2c3d4e5f62003", "operator": "Exists"}]}}], "ports": [{"port": 5432}]}]}}
            """);
        var spec = CompanionPlanner.Plan(policy.Spec, Members)!;

        Assert.Equal(["Ingress", "Egress"], spec.PolicyTypes);
        Assert.Null(spec.Ingress);
        Assert.Equal(["10.0.0.10/32", "10.0.0.9/32"], spec.Egress.Single().To.Skip(1).Select(p => p.IpBlock.Cidr));
        Assert.Equal([Db], CompanionPlanner.ReferencedGroups(policy));
    }

    [Fact]
    public void A_policy_without_security_group_peers_has_no_companion()
    {
        var policy = Policy("""
            {"metadata": {"name": "web", "namespace": "app"}, "spec": {"podSelector": {},
             "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}, {"ipBlock": {"cidr": "10.0.0.0/8"}}]}]}}
            """);
        Assert.Null(CompanionPlanner.Plan(policy.Spec, Members));
        Assert.Empty(CompanionPlanner.ReferencedGroups(policy));
    }

    [Fact]
    public void Only_true_annotates_and_our_own_companions_are_never_originals()
    {
        var annotated = Policy("""{"metadata": {"name": "a", "annotations": {"rules.networkpolicy.tigera.io/match-security-groups": "true"}}}""");
        var other = Policy("""{"metadata": {"name": "a", "annotations": {"rules.networkpolicy.tigera.io/match-security-groups": "yes"}}}""");
        var ours = Policy("""{"metadata": {"name": "a-sg", "labels": {"app.kubernetes.io/managed-by": "branch-eni"}, "annotations": {"rules.networkpolicy.tigera.io/match-security-groups": "true"}}}""");
        Assert.True(CompanionPlanner.IsAnnotated(annotated));
        Assert.False(CompanionPlanner.IsAnnotated(other));
        Assert.False(CompanionPlanner.IsAnnotated(ours));
    }
}
