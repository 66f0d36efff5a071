using System.Text.Json.Nodes;

namespace BranchEni.Controller.Tests.Sandbox;

/// <summary>
/// The real controller's webhooks as the sandbox's API server calls them (HTTPS, the controller's own CA patched into
/// the packaging's webhook configurations), driven with kubectl as admin, the node agent and an ordinary user.
/// </summary>
public sealed class AdmissionTests(ControllerWorld world) : IClassFixture<ControllerWorld>
{
    private const string Resource = "vpc.amazonaws.com/pod-eni";
    private const string Annotation = """[{"eniId":"eni-0f1","ifAddress":"0e:ee:16:bd:41:31","privateIp":"192.168.19.148","vlanId":1,"subnetCidr":"192.168.0.0/19"}]""";

    private static string Pod(string name, string labels = "{}", string container = """{"name": "app", "image": "busybox"}""", string spec = "", string metadata = "") =>
        $$$"""{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "{{{name}}}", "namespace": "app", "labels": {{{labels}}}{{{metadata}}}}, "spec": {"containers": [{{{container}}}, {"name": "side", "image": "busybox"}]{{{spec}}}}}""";

    private async Task<JsonNode> CreateAsync(string pod, string context = "admin")
    {
        await Kubectl.RunAsync(world, context, pod, "create", "-f", "-");
        var name = JsonNode.Parse(pod)!["metadata"]!["name"]!.GetValue<string>();
        return JsonNode.Parse((await Kubectl.RunAsync(world, "admin", null, "get", "pod", "-n", "app", name, "-o", "json")).Stdout)!;
    }

    private async Task PolicyAsync(string name, string spec)
    {
        await Kubectl.RunAsync(world, "admin", $$$"""{"apiVersion": "vpcresources.k8s.aws/v1beta1", "kind": "SecurityGroupPolicy", "metadata": {"name": "{{{name}}}", "namespace": "app"}, "spec": {{{spec}}}}""",
            "apply", "-f", "-");
        await ControllerWorld.Eventually(() => Task.FromResult(world.Controller.Cache.Policies.Get($"app/{name}") is not null), $"the controller to see SGP {name}");
    }

    private static JsonNode? Quantity(JsonNode pod, int container, string list) => pod["spec"]!["containers"]![container]!["resources"]?[list]?[Resource];

    [Fact]
    public async Task A_selected_pod_gets_the_resource_in_requests_and_limits_of_its_first_container()
    {
        await PolicyAsync("backend", """{"podSelector": {"matchLabels": {"role": "backend"}}, "securityGroups": {"groupIds": ["sg-0a"]}}""");

        var bare = await CreateAsync(Pod("green", """{"role": "backend"}"""));
        Assert.Equal("1", Quantity(bare, 0, "requests")!.GetValue<string>());
        Assert.Equal("1", Quantity(bare, 0, "limits")!.GetValue<string>());
        Assert.Null(bare["spec"]!["containers"]![1]!["resources"]?["requests"]);

        var withCpu = await CreateAsync(Pod("green-cpu", """{"role": "backend"}""", """{"name": "app", "image": "busybox", "resources": {"requests": {"cpu": "100m"}}}"""));
        Assert.Equal("100m", withCpu["spec"]!["containers"]![0]!["resources"]!["requests"]!["cpu"]!.GetValue<string>());
        Assert.Equal("1", Quantity(withCpu, 0, "requests")!.GetValue<string>());
        Assert.Equal("1", Quantity(withCpu, 0, "limits")!.GetValue<string>());
        Assert.True(world.Controller.Metrics.Admissions("mutate-pod-eni", "patched") >= 2);
    }

    [Fact]
    public async Task Pods_already_requesting_it_on_the_host_network_or_selected_by_nothing_are_not_patched()
    {
        await PolicyAsync("backend", """{"podSelector": {"matchLabels": {"role": "backend"}}, "securityGroups": {"groupIds": ["sg-0a"]}}""");

        var already = Pod("already", """{"role": "backend"}""", spec: """, "initContainers": []""")
            .Replace("""{"name": "side", "image": "busybox"}""", """{"name": "side", "image": "busybox", "resources": {"limits": {"vpc.amazonaws.com/pod-eni": "1"}, "requests": {"vpc.amazonaws.com/pod-eni": "1"}}}""", StringComparison.Ordinal);
        var stored = await CreateAsync(already);
        Assert.Null(Quantity(stored, 0, "requests"));
        Assert.Equal("1", Quantity(stored, 1, "requests")!.GetValue<string>());

        Assert.Null(Quantity(await CreateAsync(Pod("host", """{"role": "backend"}""", spec: """, "hostNetwork": true""")), 0, "requests"));
        Assert.Null(Quantity(await CreateAsync(Pod("red", """{"role": "frontend"}""")), 0, "requests"));
    }

    [Fact]
    public async Task A_service_account_selector_selects_through_the_accounts_labels()
    {
        await Kubectl.RunAsync(world, "admin", """{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "db-client", "namespace": "app", "labels": {"team": "db"}}}""", "apply", "-f", "-");
        await ControllerWorld.Eventually(() => Task.FromResult(world.Controller.Cache.ServiceAccounts.Get("app/db-client") is not null), "the controller to see the service account");
        await PolicyAsync("db", """{"serviceAccountSelector": {"matchLabels": {"team": "db"}}, "securityGroups": {"groupIds": ["sg-0b"]}}""");

        Assert.Equal("1", Quantity(await CreateAsync(Pod("db-pod", spec: """, "serviceAccountName": "db-client" """)), 0, "limits")!.GetValue<string>());
        Assert.Null(Quantity(await CreateAsync(Pod("plain-pod")), 0, "limits"));
    }

    [Fact]
    public async Task A_pod_created_with_the_annotation_is_denied_in_kubectls_words()
    {
        var forged = Pod("forged", metadata: $$$""", "annotations": {"vpc.amazonaws.com/pod-eni": {{{System.Text.Json.JsonSerializer.Serialize(Annotation, BranchEni.Controller.Tests.Admission.AnnotationJson.Default.String)}}}}""");
        var result = await Kubectl.RunAsync(world, "user", forged, mayFail: true, "create", "-f", "-");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("admission webhook \"pod-eni-annotation.branch-eni.k8s.aws\" denied the request: the vpc.amazonaws.com/pod-eni annotation is written only by the branch-eni node agents (system:serviceaccount:kube-system:branch-eni); a pod may not be created with it (user \"jane\")", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(1, (await Kubectl.RunAsync(world, "admin", null, true, "get", "pod", "-n", "app", "forged")).ExitCode);
    }

    [Fact]
    public async Task Adding_changing_or_removing_the_annotation_is_for_the_agent_only()
    {
        await CreateAsync(Pod("annotated"));
        string[] Annotate(string value) => ["annotate", "pod", "-n", "app", "annotated", "--overwrite", value];
        var steps = new (string Verb, string[] Args)[]
        {
            ("add", Annotate($"{Resource}={Annotation}")),
            ("change", Annotate($"{Resource}={Annotation.Replace("eni-0f1", "eni-0f2", StringComparison.Ordinal)}")),
            ("remove", Annotate($"{Resource}-")),
        };
        foreach (var (verb, args) in steps)
        {
            var denied = await Kubectl.RunAsync(world, "user", null, mayFail: true, args);
            Assert.NotEqual(0, denied.ExitCode);
            Assert.Contains($"user \"jane\" may not {verb} it", denied.Stderr, StringComparison.Ordinal);

            await Kubectl.RunAsync(world, "agent", null, args);
        }

        // Edits that leave it alone stay open to everyone.
        await Kubectl.RunAsync(world, "user", null, "label", "pod", "-n", "app", "annotated", "tier=web");
    }

    [Fact]
    public async Task Metrics_count_admissions_by_webhook_and_verdict()
    {
        await CreateAsync(Pod("counted"));
        var text = await world.Http.GetStringAsync(new Uri(world.Health, "/metrics"));
        Assert.Matches("branch_eni_controller_admissions_total\\{webhook=\"validate-pod-eni-annotation\",verdict=\"allowed\"\\} [1-9]", text);
        Assert.Contains("branch_eni_controller_admission_seconds_count{webhook=\"mutate-pod-eni\"}", text, StringComparison.Ordinal);
        Assert.Contains("branch_eni_controller_caches_synced 1", text, StringComparison.Ordinal);
        Assert.Matches("branch_eni_controller_certificate_expiry_seconds [1-9]", text);
    }
}
