using System.Text.Json.Nodes;
using BranchEni.Packaging.Tests.Support;

namespace BranchEni.Packaging.Tests;

/// <summary>The controller's objects in the kustomize base (the chart renders the same, ChartTests): the Deployment runs
/// the image's controller against its own Service, the webhooks reach that Service, RBAC grants what it does.</summary>
public sealed class ControllerManifestTests
{
    private const string Name = "branch-eni-controller";
    private static readonly Manifests M = Manifests.Kustomize();

    private static JsonObject PodSpec => M.Get("Deployment", Name)["spec"]!["template"]!["spec"]!.AsObject();

    private static JsonObject Container => Assert.Single(PodSpec["containers"]!.AsArray())!.AsObject();

    private static IEnumerable<string> Strings(JsonNode? array) => array?.AsArray().Select(a => a!.GetValue<string>()) ?? [];

    [Fact]
    public void Two_replicas_run_the_controller_from_the_image_against_their_own_service()
    {
        var deployment = M.Get("Deployment", Name);
        Assert.Equal(2, deployment["spec"]!["replicas"]!.GetValue<long>());
        Assert.Equal(["/opt/branch-eni/bin/branch-eni-controller", "run"], Strings(Container["command"]));
        Assert.True(File.Exists(Repo.PathOf("packaging", "Dockerfile")) && Repo.Read("packaging", "Dockerfile").Contains(" /opt/branch-eni/bin/branch-eni-controller", StringComparison.Ordinal));

        var args = Strings(Container["args"]).ToList();
        Assert.Equal("$(POD_NAMESPACE)/" + Name, args[args.IndexOf("--webhook-service") + 1]);
        var ns = Container["env"]!.AsArray().Single(e => e!["name"]!.GetValue<string>() == "POD_NAMESPACE")!;
        Assert.Equal("metadata.namespace", ns["valueFrom"]!["fieldRef"]!["fieldPath"]!.GetValue<string>());
        Assert.Equal(Name, PodSpec["serviceAccountName"]!.GetValue<string>());
        Assert.Null(PodSpec["hostNetwork"]);
    }

    [Fact]
    public void The_service_and_the_budget_select_the_pods_and_the_service_targets_the_webhook_port()
    {
        var labels = M.Get("Deployment", Name)["spec"]!["template"]!["metadata"]!["labels"]!.AsObject();
        var service = M.Get("Service", Name)["spec"]!;
        Assert.True(JsonNode.DeepEquals(labels, service["selector"]));
        Assert.True(JsonNode.DeepEquals(labels, M.Get("PodDisruptionBudget", Name)["spec"]!["selector"]!["matchLabels"]));
        Assert.Equal(1, M.Get("PodDisruptionBudget", Name)["spec"]!["minAvailable"]!.GetValue<long>());

        var port = Assert.Single(service["ports"]!.AsArray())!;
        var containerPort = Container["ports"]!.AsArray().Single(p => p!["name"]!.GetValue<string>() == port["targetPort"]!.GetValue<string>())!;
        // The controller's default --webhook-address is 0.0.0.0:9443; /readyz and /healthz on its --health-address 8081.
        Assert.Equal(9443, containerPort["containerPort"]!.GetValue<long>());
        var health = Container["ports"]!.AsArray().Single(p => p!["name"]!.GetValue<string>() == "health")!;
        Assert.Equal(8081, health["containerPort"]!.GetValue<long>());
        Assert.Equal("/readyz", Container["readinessProbe"]!["httpGet"]!["path"]!.GetValue<string>());
        Assert.Equal("/healthz", Container["livenessProbe"]!["httpGet"]!["path"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("MutatingWebhookConfiguration", "/mutate-v1-pod", new[] { "CREATE" })]
    [InlineData("ValidatingWebhookConfiguration", "/validate-v1-pod", new[] { "CREATE", "UPDATE" })]
    public void Both_webhooks_are_named_branch_eni_ignore_failures_and_call_the_service(string kind, string path, string[] operations)
    {
        var webhook = Assert.Single(M.Get(kind, "branch-eni")["webhooks"]!.AsArray())!;
        Assert.Equal("Ignore", webhook["failurePolicy"]!.GetValue<string>());
        Assert.Equal("None", webhook["sideEffects"]!.GetValue<string>());
        Assert.Equal(["v1"], Strings(webhook["admissionReviewVersions"]));
        Assert.InRange(webhook["timeoutSeconds"]!.GetValue<long>(), 1, 10);
        Assert.Null(webhook["namespaceSelector"]);
        Assert.Null(webhook["objectSelector"]);

        var service = webhook["clientConfig"]!["service"]!;
        Assert.Equal(Name, service["name"]!.GetValue<string>());
        Assert.Equal("kube-system", service["namespace"]!.GetValue<string>());
        Assert.Equal(path, service["path"]!.GetValue<string>());
        Assert.Equal(M.Get("Service", Name)["spec"]!["ports"]![0]!["port"]!.GetValue<long>(), service["port"]!.GetValue<long>());

        var rule = Assert.Single(webhook["rules"]!.AsArray())!;
        Assert.Equal(["pods"], Strings(rule["resources"]));
        Assert.Equal([""], Strings(rule["apiGroups"]));
        Assert.Equal(operations, Strings(rule["operations"]));
    }

    [Fact]
    public void Rbac_grants_its_caches_its_two_configurations_by_name_its_secret_and_lease_in_its_namespace_and_companion_writes()
    {
        var cluster = M.Get("ClusterRole", Name)["rules"]!.AsArray();
        // Pods only to read (the ENI cleanup's cache of their UIDs).
        Assert.All(cluster.Where(r => Strings(r!["resources"]).Contains("pods")), r => Assert.Equal(["list", "watch"], Strings(r!["verbs"])));
        Assert.Contains(cluster, r => Strings(r!["resources"]).Contains("pods"));
        var admission = cluster.Single(r => Strings(r!["apiGroups"]).Contains("admissionregistration.k8s.io"))!;
        Assert.Equal(["branch-eni"], Strings(admission["resourceNames"]));
        Assert.Equal(["get", "patch"], Strings(admission["verbs"]));
        // Cluster-wide writes only for companion NetworkPolicies (in any namespace an annotated policy lives in) and the
        // Warning events on their originals.
        var writes = cluster.Where(r => r!["resourceNames"] is null && Strings(r["verbs"]).Any(v => v is "create" or "update" or "delete" or "patch" or "*"))
            .Select(r => $"{Strings(r!["apiGroups"]).Single()}/{string.Join(',', Strings(r["resources"]))}: {string.Join(',', Strings(r["verbs"]))}").ToList();
        Assert.Equal(["networking.k8s.io/networkpolicies: list,watch,create,update,delete", "networking.k8s.io/networkpolicies/finalizers: update", "/events: create"], writes);

        var role = M.Get("Role", Name);
        Assert.Equal("kube-system", role["metadata"]!["namespace"]!.GetValue<string>());
        var named = role["rules"]!.AsArray().Where(r => r!["resourceNames"] is not null).ToDictionary(r => Strings(r!["resources"]).Single(), r => Strings(r!["resourceNames"]).Single());
        Assert.Equal("branch-eni-controller-tls", named["secrets"]);
        Assert.Equal(Name, named["leases"]);

        foreach (var binding in new[] { M.Get("ClusterRoleBinding", Name), M.Get("RoleBinding", Name) })
        {
            var subject = Assert.Single(binding["subjects"]!.AsArray())!;
            Assert.Equal(PodSpec["serviceAccountName"]!.GetValue<string>(), subject["name"]!.GetValue<string>());
            Assert.Equal(Name, binding["roleRef"]!["name"]!.GetValue<string>());
        }

        M.Get("ServiceAccount", Name);
    }

    [Fact]
    public void Chart_values_reach_the_controller_objects()
    {
        var values = ChartRenderer.DefaultValues();
        values["controller"]!["replicas"] = 3L;
        values["controller"]!["failurePolicy"] = "Fail";
        values["controller"]!["sgMembershipIntervalSeconds"] = 120L;
        var chart = ChartRenderer.Render(values, "networking");
        var env = chart.Get("Deployment", Name)["spec"]!["template"]!["spec"]!["containers"]![0]!["env"]!.AsArray();
        Assert.Equal("120", env.Single(e => e!["name"]!.GetValue<string>() == "SG_MEMBERSHIP_INTERVAL_SECONDS")!["value"]!.GetValue<string>());
        Assert.Equal(3, chart.Get("Deployment", Name)["spec"]!["replicas"]!.GetValue<long>());
        Assert.Equal("Fail", chart.Get("ValidatingWebhookConfiguration", "branch-eni")["webhooks"]![0]!["failurePolicy"]!.GetValue<string>());
        Assert.Equal("networking", chart.Get("MutatingWebhookConfiguration", "branch-eni")["webhooks"]![0]!["clientConfig"]!["service"]!["namespace"]!.GetValue<string>());
        Assert.Equal("networking", chart.Get("RoleBinding", Name)["subjects"]![0]!["namespace"]!.GetValue<string>());
    }
}
