using System.Text.Json.Nodes;
using BranchEni.Packaging.Tests.Support;

namespace BranchEni.Packaging.Tests;

/// <summary>The Helm chart renders the kustomize base's objects. Rendered by <see cref="ChartRenderer"/> (helm itself is
/// not installable here), which evaluates the chart's deliberately small template grammar exactly.</summary>
public sealed class ChartTests
{
    private const string Namespace = "kube-system";

    [Fact]
    public void With_its_default_values_the_chart_renders_exactly_the_kustomize_objects()
    {
        var kustomize = Manifests.Kustomize().Objects.ToDictionary(Manifests.KeyOf);
        var chart = ChartRenderer.Render(ChartRenderer.DefaultValues(), Namespace).Objects.ToDictionary(Manifests.KeyOf);

        Assert.Equal(kustomize.Keys.Order(), chart.Keys.Order());
        foreach (var (key, expected) in kustomize)
        {
            Assert.True(JsonNode.DeepEquals(expected, chart[key]), $"{key} differs:\nkustomize {expected.ToJsonString()}\nchart     {chart[key].ToJsonString()}");
        }
    }

    [Fact]
    public void Values_reach_the_rendered_objects()
    {
        var values = ChartRenderer.DefaultValues();
        values["clusterName"] = "prod-eu";
        values["healthPort"] = 7001L;
        values["enablePodEni"] = false;
        values["image"]!["tag"] = "0.2.0";
        var chart = ChartRenderer.Render(values, "networking");

        var env = chart.PlainEnv;
        Assert.Equal("prod-eu", env["CLUSTER_NAME"]);
        Assert.Equal("false", env["ENABLE_POD_ENI"]);
        Assert.Equal("127.0.0.1:7001", env["BRANCH_ENI_HEALTH_ADDRESS"]);
        Assert.Equal(7001, chart.Agent["readinessProbe"]!["httpGet"]!["port"]!.GetValue<long>());
        Assert.Equal("branch-eni:0.2.0", chart.Agent["image"]!.GetValue<string>());
        Assert.Equal("networking", chart.Get("ClusterRoleBinding", "branch-eni")["subjects"]![0]!["namespace"]!.GetValue<string>());
    }

    [Fact]
    public void Every_value_is_used_and_every_template_expression_names_a_value()
    {
        var used = ChartRenderer.Expressions().Select(e => e.Expression).Where(e => e.StartsWith(".Values.", StringComparison.Ordinal))
            .Select(e => e.Split('|')[0].Trim()[".Values.".Length..]).ToHashSet(StringComparer.Ordinal);
        var leaves = Leaves(ChartRenderer.DefaultValues(), "").ToHashSet(StringComparer.Ordinal);

        Assert.Equal(leaves.Order(), used.Order());
    }

    [Fact]
    public void Expressions_outside_the_grammar_or_naming_no_scalar_value_are_refused()
    {
        var values = ChartRenderer.DefaultValues();
        Assert.Equal("x: \"my-cluster\" kube-system", ChartRenderer.RenderText("x: {{ .Values.clusterName | quote }} {{ .Release.Namespace }}", values, Namespace, "t"));
        Assert.Throws<NotSupportedException>(() => ChartRenderer.RenderText("r: {{ toYaml .Values.resources | nindent 4 }}", values, Namespace, "t"));
        Assert.Throws<NotSupportedException>(() => ChartRenderer.RenderText("{{ if .Values.enablePodEni }}x{{ end }}", values, Namespace, "t"));
        Assert.Throws<KeyNotFoundException>(() => ChartRenderer.RenderText("{{ .Values.image.digest }}", values, Namespace, "t"));
        Assert.Throws<InvalidDataException>(() => ChartRenderer.RenderText("{{ .Values.resources }}", values, Namespace, "t"));
    }

    [Fact]
    public void The_chart_installs_the_same_crd_file_as_the_base()
    {
        Assert.Equal(Repo.Read("packaging", "base", "securitygrouppolicies.yaml"), Repo.Read("packaging", "chart", "branch-eni", "crds", "securitygrouppolicies.yaml"));
    }

    [Fact]
    public void Chart_yaml_names_a_v2_chart_after_its_directory_with_semantic_versions()
    {
        var chart = Yaml.Single(Repo.Read("packaging", "chart", "branch-eni", "Chart.yaml"));
        Assert.Equal("v2", chart["apiVersion"]!.GetValue<string>());
        Assert.Equal("branch-eni", chart["name"]!.GetValue<string>());
        Assert.Equal("application", chart["type"]!.GetValue<string>());
        Assert.Matches(@"^\d+\.\d+\.\d+$", chart["version"]!.GetValue<string>());
        Assert.Matches(@"^\d+\.\d+\.\d+$", chart["appVersion"]!.GetValue<string>());
    }

    private static IEnumerable<string> Leaves(JsonObject o, string prefix) =>
        o.SelectMany(kv => kv.Value is JsonObject child ? Leaves(child, $"{prefix}{kv.Key}.") : [$"{prefix}{kv.Key}"]);
}
