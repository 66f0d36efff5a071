using System.Text.Json.Nodes;
using Amazon.EC2;
using Amazon.Runtime;
using BranchEni.Agent;
using BranchEni.Agent.Configuration;
using BranchEni.Agent.Kubernetes;
using BranchEni.Policy;

namespace BranchEni.Controller.Tests.Sandbox;

/// <summary>
/// The real agent and the real controller against the sandbox, with aws.tigera.io/security-groups enabled for
/// namespace "app": the agent's label writes pass the validating webhook under its identity, a user's forgery of the
/// same label does not, and the annotated pod's branch ENI has exactly the annotation's groups.
/// </summary>
public sealed class AgentThroughWebhookTests(SgAnnotationWorld world) : IClassFixture<SgAnnotationWorld>
{
    private const string Sg = "sg-0a1b2c3d4e5f62002";
    private const string Node = "node-1";

    private static string Pod(string name, string groups) =>
        $$$"""{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "{{{name}}}", "namespace": "app", "annotations": {"aws.tigera.io/security-groups": "[\"{{{groups}}}\"]"}}, "spec": {"nodeName": "{{{Node}}}", "containers": [{"name": "app", "image": "busybox"}]}}""";

    private async Task<JsonNode> GetAsync(string name) =>
        JsonNode.Parse((await Kubectl.RunAsync(world, "admin", null, "get", "pod", "-n", "app", name, "-o", "json")).Stdout)!;

    [Fact]
    public async Task The_agents_labels_pass_the_webhook_and_a_users_forgery_does_not()
    {
        var state = Directory.CreateTempSubdirectory("agent-through-webhook-").FullName;
        using var stop = new CancellationTokenSource();
        using var api = KubeApi.Connect(world.KubeconfigPath("agent"));
        using var imds = new HttpClient();
        var options = new AgentOptions
        {
            EnablePodEni = true, ClusterName = "demo", NodeName = Node, Kubeconfig = world.KubeconfigPath("agent"),
            ImdsEndpoint = world.Sandbox.Endpoints.Imds, Ec2Endpoint = world.Sandbox.Endpoints.Ec2, StateDir = state,
            CniBinDir = null, CniConfDir = null, TrunkLinkWait = TimeSpan.FromMilliseconds(200),
            SgAnnotation = SecurityGroupAnnotationSettings.Of(true, "app"),
        };
        var agent = new Agent.Agent(options, new AgentClients(_ => Ec2(), api, imds), Serilog.Core.Logger.None);
        var run = Task.Run(() => agent.RunAsync(stop.Token));
        try
        {
            await Kubectl.RunAsync(world, "user", Pod("web", Sg), "create", "-f", "-");
            var label = $"{TigeraNames.SecurityGroupLabelPrefix}{Sg}";
            await ControllerWorld.Eventually(async () => (await GetAsync("web"))["metadata"]!["labels"]?[label] is not null, "the agent's sg label on web", 30);

            var web = await GetAsync("web");
            var eni = JsonNode.Parse(web["metadata"]!["annotations"]![PodEni.AnnotationKey]!.GetValue<string>())![0]!["eniId"]!.GetValue<string>();
            Assert.Equal([Sg], world.Sandbox.Admin.Snapshot().NetworkInterfaces.Single(e => e.Id == eni).GroupIds);
            Assert.Equal("1", web["spec"]!["containers"]![0]!["resources"]!["requests"]![PodEni.Resource]!.GetValue<string>());

            var forged = await Kubectl.RunAsync(world, "user", null, mayFail: true, "label", "pod", "-n", "app", "web", $"{TigeraNames.SecurityGroupLabelPrefix}sg-0a1b2c3d4e5f62003=");
            Assert.NotEqual(0, forged.ExitCode);
            Assert.Contains("may not add sg.aws.tigera.io/sg-0a1b2c3d4e5f62003", forged.Stderr, StringComparison.Ordinal);
            var removed = await Kubectl.RunAsync(world, "user", null, mayFail: true, "label", "pod", "-n", "app", "web", $"{label}-");
            Assert.Contains($"may not remove {label}", removed.Stderr, StringComparison.Ordinal);
            Assert.NotNull((await GetAsync("web"))["metadata"]!["labels"]![label]);
        }
        finally
        {
            await stop.CancelAsync();
            await run.WaitAsync(TimeSpan.FromSeconds(20));
            Directory.Delete(state, recursive: true);
        }
    }

    private IAmazonEC2 Ec2() => new AmazonEC2Client(new BasicAWSCredentials("AKIDEXAMPLE", "secret"),
        new AmazonEC2Config { ServiceURL = world.Sandbox.Endpoints.Ec2.ToString(), AuthenticationRegion = "us-west-2", MaxErrorRetry = 0 });
}
