using System.Text.Json.Nodes;
using BranchEni.Packaging.Tests.Support;

namespace BranchEni.Packaging.Tests;

/// <summary>The rendered SecurityGroupPolicy CRD is the contract of DESIGN.md §2 (the EKS one), and the example
/// policies are valid against it.</summary>
public sealed class CrdTests
{
    private static readonly JsonObject Crd = Manifests.Kustomize().Get("CustomResourceDefinition", "securitygrouppolicies.vpcresources.k8s.aws");

    private static JsonObject Schema => Crd["spec"]!["versions"]![0]!["schema"]!["openAPIV3Schema"]!.AsObject();

    private static JsonObject Spec => Schema["properties"]!["spec"]!.AsObject();

    [Fact]
    public void Group_version_names_and_scope_are_the_eks_ones()
    {
        var spec = Crd["spec"]!;
        Assert.Equal("vpcresources.k8s.aws", spec["group"]!.GetValue<string>());
        Assert.Equal("Namespaced", spec["scope"]!.GetValue<string>());
        Assert.Equal("SecurityGroupPolicy", spec["names"]!["kind"]!.GetValue<string>());
        Assert.Equal("securitygrouppolicies", spec["names"]!["plural"]!.GetValue<string>());
        Assert.Equal(["sgp"], spec["names"]!["shortNames"]!.AsArray().Select(n => n!.GetValue<string>()));
        var version = Assert.Single(spec["versions"]!.AsArray())!;
        Assert.Equal("v1beta1", version["name"]!.GetValue<string>());
        Assert.True(version["served"]!.GetValue<bool>() && version["storage"]!.GetValue<bool>());
    }

    [Fact]
    public void Kubectl_get_prints_the_eks_security_group_column_and_the_age()
    {
        // EKS's CRD prints Security-Group-Ids; the age is ours (a CRD that declares columns gets no default Age).
        // The sandbox serves its Tables from this same file (src/Sandbox/Kubernetes/Tables/CustomResourceColumns.cs).
        var columns = Crd["spec"]!["versions"]![0]!["additionalPrinterColumns"]!.AsArray()
            .Select(c => (c!["name"]!.GetValue<string>(), c["type"]!.GetValue<string>(), c["jsonPath"]!.GetValue<string>()));
        Assert.Equal([("Security-Group-Ids", "string", ".spec.securityGroups.groupIds"), ("Age", "date", ".metadata.creationTimestamp")], columns);
    }

    [Fact]
    public void Both_selectors_are_label_selectors_and_group_ids_need_at_least_one()
    {
        Assert.Equal(["podSelector", "securityGroups", "serviceAccountSelector"], Spec["properties"]!.AsObject().Select(p => p.Key).Order());
        foreach (var selector in new[] { "podSelector", "serviceAccountSelector" })
        {
            var s = Spec["properties"]![selector]!;
            Assert.Equal("object", s["type"]!.GetValue<string>());
            Assert.Equal("string", s["properties"]!["matchLabels"]!["additionalProperties"]!["type"]!.GetValue<string>());
            var expression = s["properties"]!["matchExpressions"]!["items"]!;
            Assert.Equal(["key", "operator"], expression["required"]!.AsArray().Select(r => r!.GetValue<string>()));
            Assert.Equal(["key", "operator", "values"], expression["properties"]!.AsObject().Select(p => p.Key).Order());
            Assert.Equal("string", expression["properties"]!["values"]!["items"]!["type"]!.GetValue<string>());
        }

        var groupIds = Spec["properties"]!["securityGroups"]!["properties"]!["groupIds"]!;
        Assert.Equal("array", groupIds["type"]!.GetValue<string>());
        Assert.Equal(1, groupIds["minItems"]!.GetValue<long>());
        Assert.Equal("string", groupIds["items"]!["type"]!.GetValue<string>());
    }

    [Fact]
    public void The_example_policies_are_valid_and_broken_ones_are_not()
    {
        var examples = AgentRun.ExampleSgps().ToList();
        Assert.Equal(2, examples.Count);
        Assert.All(examples, e => Assert.Empty(SchemaValidator.Validate(e, Schema)));
        Assert.Contains(examples, e => e["spec"]!["podSelector"] is not null);
        Assert.Contains(examples, e => e["spec"]!["serviceAccountSelector"] is not null);

        var noGroups = examples[0].DeepClone().AsObject();
        noGroups["spec"]!["securityGroups"]!["groupIds"] = new JsonArray();
        Assert.Contains(SchemaValidator.Validate(noGroups, Schema), e => e.Contains("at least 1", StringComparison.Ordinal));

        var typo = examples[0].DeepClone().AsObject();
        typo["spec"]!["podSelectors"] = new JsonObject();
        Assert.Contains(SchemaValidator.Validate(typo, Schema), e => e.Contains("podSelectors: unknown field", StringComparison.Ordinal));

        var noOperator = examples[1].DeepClone().AsObject();
        noOperator["spec"]!["serviceAccountSelector"]!["matchExpressions"]![0]!.AsObject().Remove("operator");
        Assert.Contains(SchemaValidator.Validate(noOperator, Schema), e => e.EndsWith("operator: required", StringComparison.Ordinal));
    }
}
