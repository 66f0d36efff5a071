using System.Text.Json.Nodes;
using BranchEni.Controller.Configuration;
using BranchEni.Policy;

namespace BranchEni.Controller.Tests.Sandbox;

/// <summary>The controller with aws.tigera.io/security-groups enabled for namespace "app".</summary>
public sealed class SgAnnotationWorld : ControllerWorld
{
    internal override ControllerOptions Configure(ControllerOptions options) =>
        options with { SgAnnotation = SecurityGroupAnnotationSettings.Of(true, "app") };
}

/// <summary>
/// Issue 19's admission rules, through the sandbox's API server calling the real controller, with kubectl as an
/// ordinary user ("jane"), as the node agent (system:serviceaccount:kube-system:branch-eni) and as admin.
/// </summary>
public sealed class SecurityGroupAdmissionTests(SgAnnotationWorld world) : IClassFixture<SgAnnotationWorld>
{
    private const string Sg = "sg-0a1b2c3d4e5f62002";
    private const string Label = $"sg.aws.tigera.io/{Sg}";
    private const string PodEniValue = """[{"eniId":"eni-0f1","ifAddress":"0e:ee:16:bd:41:31","privateIp":"192.168.19.148","vlanId":1,"subnetCidr":"192.168.0.0/19"}]""";

    private static string Pod(string name, string labels = "{}", string annotations = "{}") =>
        $$$"""{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "{{{name}}}", "namespace": "app", "labels": {{{labels}}}, "annotations": {{{annotations}}}}, "spec": {"containers": [{"name": "app", "image": "busybox"}]}}""";

    private static string Groups(string value) => new JsonObject { [TigeraNames.SecurityGroupsAnnotation] = value }.ToJsonString();

    private Task<Kubectl.Result> AsUser(string context, string? stdin, params string[] args) => Kubectl.RunAsync(world, context, stdin, mayFail: true, args);

    private async Task<JsonNode> GetAsync(string name) =>
        JsonNode.Parse((await Kubectl.RunAsync(world, "admin", null, "get", "pod", "-n", "app", name, "-o", "json")).Stdout)!;

    [Fact]
    public async Task An_annotated_pod_gets_the_resource_and_a_malformed_one_is_refused_with_the_parsers_words()
    {
        await Kubectl.RunAsync(world, "user", Pod("web", annotations: Groups($"[\"{Sg}\"]")), "create", "-f", "-");
        var web = await GetAsync("web");
        Assert.Equal("1", web["spec"]!["containers"]![0]!["resources"]!["limits"]![PodEni.Resource]!.GetValue<string>());

        var malformed = await AsUser("user", Pod("bad", annotations: Groups("[\"sg-nothex\"]")), "create", "-f", "-");
        Assert.NotEqual(0, malformed.ExitCode);
        Assert.Contains("element 0 \"sg-nothex\" is not a security group id", malformed.Stderr, StringComparison.Ordinal);
        Assert.Equal(1, (await AsUser("admin", null, "get", "pod", "-n", "app", "bad")).ExitCode);
    }

    [Fact]
    public async Task Adding_the_annotation_to_a_pod_without_a_branch_is_refused_and_changing_it_on_a_branch_pod_too()
    {
        await Kubectl.RunAsync(world, "user", Pod("plain"), "create", "-f", "-");
        var add = await AsUser("user", null, "annotate", "pod", "-n", "app", "plain", $"{TigeraNames.SecurityGroupsAnnotation}=[\"{Sg}\"]");
        Assert.NotEqual(0, add.ExitCode);
        Assert.Contains("the pod has no branch ENI", add.Stderr, StringComparison.Ordinal);
        Assert.Contains("delete the pod and create it again with the annotation", add.Stderr, StringComparison.Ordinal);

        await Kubectl.RunAsync(world, "user", Pod("branched", annotations: Groups($"[\"{Sg}\"]")), "create", "-f", "-");
        await Kubectl.RunAsync(world, "agent", null, "annotate", "pod", "-n", "app", "branched", $"{PodEni.AnnotationKey}={PodEniValue}");
        var change = await AsUser("user", null, "annotate", "pod", "-n", "app", "branched", "--overwrite", $"{TigeraNames.SecurityGroupsAnnotation}=[\"sg-0a1b2c3d4e5f62003\"]");
        Assert.NotEqual(0, change.ExitCode);
        Assert.Contains("live security-group changes are not supported yet", change.Stderr, StringComparison.Ordinal);
        var remove = await AsUser("admin", null, "annotate", "pod", "-n", "app", "branched", $"{TigeraNames.SecurityGroupsAnnotation}-");
        Assert.Contains("removing aws.tigera.io/security-groups on an existing pod is refused", remove.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Only_the_agent_writes_sg_labels()
    {
        var forged = await AsUser("user", Pod("forged", labels: new JsonObject { [Label] = "" }.ToJsonString()), "create", "-f", "-");
        Assert.NotEqual(0, forged.ExitCode);
        Assert.Contains($"user \"jane\" may not add {Label}", forged.Stderr, StringComparison.Ordinal);
        Assert.Equal(1, (await AsUser("admin", null, "get", "pod", "-n", "app", "forged")).ExitCode);

        await Kubectl.RunAsync(world, "user", Pod("labelled"), "create", "-f", "-");
        var add = await AsUser("user", null, "label", "pod", "-n", "app", "labelled", $"{Label}=");
        Assert.NotEqual(0, add.ExitCode);
        Assert.Contains("they select pods for NetworkPolicy by security group", add.Stderr, StringComparison.Ordinal);
        Assert.Null((await GetAsync("labelled"))["metadata"]!["labels"]?[Label]);

        // The agent's own write goes through; nobody else may then change or remove it, not even admin.
        await Kubectl.RunAsync(world, "agent", null, "label", "pod", "-n", "app", "labelled", $"{Label}=");
        Assert.Equal("", (await GetAsync("labelled"))["metadata"]!["labels"]![Label]!.GetValue<string>());
        var change = await AsUser("admin", null, "label", "pod", "-n", "app", "labelled", "--overwrite", $"{Label}=x");
        Assert.Contains($"may not change {Label}", change.Stderr, StringComparison.Ordinal);
        var remove = await AsUser("user", null, "label", "pod", "-n", "app", "labelled", $"{Label}-");
        Assert.Contains($"may not remove {Label}", remove.Stderr, StringComparison.Ordinal);

        // Other labels stay open to everyone.
        await Kubectl.RunAsync(world, "user", null, "label", "pod", "-n", "app", "labelled", "tier=web");
    }
}
