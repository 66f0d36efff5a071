using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace BranchEni.Sandbox.Tests.Kubernetes;

/// <summary>Pods, nodes, service accounts and events through KubernetesClient's typed CoreV1 calls.</summary>
public sealed class CoreApiTests : IAsyncLifetime
{
    private BranchEni.Sandbox.Hosting.SandboxHost _sandbox = null!;
    private k8s.Kubernetes _client = null!;
    private string _dir = "";

    public async Task InitializeAsync() => (_sandbox, _client, _dir) = await KubeClients.StartAsync();

    public Task DisposeAsync() => KubeClients.StopAsync(_sandbox, _client, _dir);

    private static V1Pod Pod(string name, string node, Dictionary<string, string>? labels = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, Labels = labels },
        Spec = new V1PodSpec { NodeName = node, Containers = [new V1Container { Name = "app", Image = "busybox" }] },
    };

    [Fact]
    public async Task Pods_are_created_selected_by_node_and_labels_patched_and_deleted()
    {
        var created = await _client.CoreV1.CreateNamespacedPodAsync(Pod("green", "node-1", new() { ["app"] = "green" }), "default");
        Assert.False(string.IsNullOrEmpty(created.Metadata.Uid));
        Assert.False(string.IsNullOrEmpty(created.Metadata.ResourceVersion));
        Assert.Equal("Pending", created.Status.Phase);
        await _client.CoreV1.CreateNamespacedPodAsync(Pod("red", "node-1", new() { ["app"] = "red" }), "default");
        await _client.CoreV1.CreateNamespacedPodAsync(Pod("elsewhere", "node-2"), "default");

        var onNode = await _client.CoreV1.ListPodForAllNamespacesAsync(fieldSelector: "spec.nodeName=node-1");
        Assert.Equal(["green", "red"], onNode.Items.Select(p => p.Metadata.Name).Order(StringComparer.Ordinal));
        var green = await _client.CoreV1.ListNamespacedPodAsync("default", labelSelector: "app in (green,blue),!absent", fieldSelector: "spec.nodeName=node-1");
        Assert.Equal("green", Assert.Single(green.Items).Metadata.Name);

        var annotation = """[{"eniId":"eni-0f1","vlanId":1}]""";
        var patched = await _client.CoreV1.PatchNamespacedPodAsync(
            new V1Patch("{\"metadata\":{\"annotations\":{\"vpc.amazonaws.com/pod-eni\":" + System.Text.Json.Nodes.JsonValue.Create(annotation).ToJsonString() + "}}}", V1Patch.PatchType.MergePatch),
            "green", "default");
        Assert.Equal(annotation, patched.Metadata.Annotations["vpc.amazonaws.com/pod-eni"]);
        Assert.True(long.Parse(patched.Metadata.ResourceVersion, System.Globalization.CultureInfo.InvariantCulture)
            > long.Parse(created.Metadata.ResourceVersion, System.Globalization.CultureInfo.InvariantCulture));

        var jsonPatched = await _client.CoreV1.PatchNamespacedPodAsync(
            new V1Patch("""[{"op":"add","path":"/metadata/labels/tier","value":"web"},{"op":"test","path":"/metadata/name","value":"green"}]""", V1Patch.PatchType.JsonPatch),
            "green", "default");
        Assert.Equal("web", jsonPatched.Metadata.Labels["tier"]);
        var strategic = await _client.CoreV1.PatchNamespacedPodAsync(
            new V1Patch("""{"metadata":{"labels":{"tier":null}},"spec":{"containers":[{"name":"app","image":"busybox:2"}]}}""", V1Patch.PatchType.StrategicMergePatch),
            "green", "default");
        Assert.False(strategic.Metadata.Labels.ContainsKey("tier"));
        Assert.Equal("busybox:2", Assert.Single(strategic.Spec.Containers).Image);

        await _client.CoreV1.DeleteNamespacedPodAsync("green", "default");
        var gone = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CoreV1.ReadNamespacedPodAsync("green", "default"));
        Assert.Equal(HttpStatusCode.NotFound, gone.Response.StatusCode);
        Assert.Contains("\"reason\":\"NotFound\"", gone.Response.Content, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_stale_resource_version_or_uid_is_a_409_conflict_and_changes_nothing()
    {
        var pod = await _client.CoreV1.CreateNamespacedPodAsync(Pod("p", "node-1"), "default");
        var fresh = await _client.CoreV1.PatchNamespacedPodAsync(new V1Patch("""{"metadata":{"labels":{"a":"1"}}}""", V1Patch.PatchType.MergePatch), "p", "default");

        pod.Metadata.Labels = new Dictionary<string, string> { ["stale"] = "yes" };
        var conflict = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CoreV1.ReplaceNamespacedPodAsync(pod, "p", "default"));
        Assert.Equal(HttpStatusCode.Conflict, conflict.Response.StatusCode);
        Assert.Contains("\"reason\":\"Conflict\"", conflict.Response.Content, StringComparison.Ordinal);

        var uidPatch = new V1Patch("""{"metadata":{"uid":"00000000-0000-0000-0000-000000000000","labels":{"b":"2"}}}""", V1Patch.PatchType.MergePatch);
        var uidConflict = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CoreV1.PatchNamespacedPodAsync(uidPatch, "p", "default"));
        Assert.Equal(HttpStatusCode.Conflict, uidConflict.Response.StatusCode);

        var now = await _client.CoreV1.ReadNamespacedPodAsync("p", "default");
        Assert.Equal(fresh.Metadata.ResourceVersion, now.Metadata.ResourceVersion);
        Assert.Equal(["a"], now.Metadata.Labels.Keys);

        fresh.Metadata.Labels["c"] = "3";
        var replaced = await _client.CoreV1.ReplaceNamespacedPodAsync(fresh, "p", "default");
        Assert.Equal("3", replaced.Metadata.Labels["c"]);
    }

    [Fact]
    public async Task Node_status_patches_reach_capacity_and_labels_without_touching_the_rest()
    {
        var node = await _client.CoreV1.ReadNodeAsync("node-1");
        Assert.Equal("m5.large", node.Metadata.Labels["node.kubernetes.io/instance-type"]);
        Assert.Equal("aws:///us-west-2a/i-0a1b2c3d4e5f63001", node.Spec.ProviderID);
        Assert.Equal("192.168.10.10", node.Status.Addresses.Single(a => a.Type == "InternalIP").Address);

        var status = await _client.CoreV1.PatchNodeStatusAsync(
            new V1Patch("""{"status":{"capacity":{"vpc.amazonaws.com/pod-eni":"9"},"allocatable":{"vpc.amazonaws.com/pod-eni":"9"}}}""", V1Patch.PatchType.StrategicMergePatch),
            "node-1");
        Assert.Equal("9", status.Status.Capacity["vpc.amazonaws.com/pod-eni"].ToString());
        Assert.Equal("2", status.Status.Capacity["cpu"].ToString());

        // Status through the main resource is ignored, as on a real server.
        var labelled = await _client.CoreV1.PatchNodeAsync(
            new V1Patch("""{"metadata":{"labels":{"vpc.amazonaws.com/has-trunk-attached":"true"}},"status":{"capacity":{"cpu":"64"}}}""", V1Patch.PatchType.MergePatch),
            "node-1");
        Assert.Equal("true", labelled.Metadata.Labels["vpc.amazonaws.com/has-trunk-attached"]);
        Assert.Equal("2", labelled.Status.Capacity["cpu"].ToString());
        Assert.Equal("9", (await _client.CoreV1.ListNodeAsync()).Items.Single().Status.Capacity["vpc.amazonaws.com/pod-eni"].ToString());
    }

    [Fact]
    public async Task Service_accounts_events_and_namespaces_are_served()
    {
        var sa = await _client.CoreV1.ReadNamespacedServiceAccountAsync("default", "default");
        Assert.Equal("default", sa.Metadata.Name);
        await _client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = "demo" } });
        Assert.Equal("default", Assert.Single((await _client.CoreV1.ListNamespacedServiceAccountAsync("demo")).Items).Metadata.Name);
        await _client.CoreV1.CreateNamespacedServiceAccountAsync(new V1ServiceAccount { Metadata = new V1ObjectMeta { Name = "green-sa" } }, "demo");

        var ev = await _client.CoreV1.CreateNamespacedEventAsync(new Corev1Event
        {
            Metadata = new V1ObjectMeta { GenerateName = "green." },
            InvolvedObject = new V1ObjectReference { Kind = "Pod", Name = "green", NamespaceProperty = "demo" },
            Reason = "BranchEniAttached",
            Message = "branch eni-0f1 on vlan 1",
            Type = "Normal",
        }, "demo");
        Assert.StartsWith("green.", ev.Metadata.Name, StringComparison.Ordinal);
        var listed = await _client.CoreV1.ListNamespacedEventAsync("demo", fieldSelector: "involvedObject.name=green,reason=BranchEniAttached");
        Assert.Equal("branch eni-0f1 on vlan 1", Assert.Single(listed.Items).Message);

        var missingNs = await Assert.ThrowsAsync<HttpOperationException>(() =>
            _client.CoreV1.CreateNamespacedPodAsync(Pod("x", "node-1"), "no-such-namespace"));
        Assert.Equal(HttpStatusCode.NotFound, missingNs.Response.StatusCode);
        await _client.CoreV1.DeleteNamespaceAsync("demo");
        Assert.Empty((await _client.CoreV1.ListNamespacedServiceAccountAsync("demo")).Items);
    }

    [Fact]
    public async Task Bad_objects_are_422_and_bad_selectors_400_with_status_bodies()
    {
        var noContainers = new V1Pod { Metadata = new V1ObjectMeta { Name = "bad" }, Spec = new V1PodSpec { Containers = [] } };
        var invalid = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CoreV1.CreateNamespacedPodAsync(noContainers, "default"));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, invalid.Response.StatusCode);
        Assert.Contains("\"kind\":\"Status\"", invalid.Response.Content, StringComparison.Ordinal);
        var badName = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CoreV1.CreateNamespacedPodAsync(Pod("Not_A_Name", "node-1"), "default"));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, badName.Response.StatusCode);
        var badField = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CoreV1.ListPodForAllNamespacesAsync(fieldSelector: "spec.bogus=1"));
        Assert.Equal(HttpStatusCode.BadRequest, badField.Response.StatusCode);
        await _client.CoreV1.CreateNamespacedPodAsync(Pod("dup", "node-1"), "default");
        var dup = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CoreV1.CreateNamespacedPodAsync(Pod("dup", "node-1"), "default"));
        Assert.Equal(HttpStatusCode.Conflict, dup.Response.StatusCode);
        Assert.Contains("AlreadyExists", dup.Response.Content, StringComparison.Ordinal);
        Assert.Single((await _client.CoreV1.ListNamespacedPodAsync("default")).Items);
    }

    [Fact]
    public async Task Lists_page_with_limit_and_continue()
    {
        for (var i = 0; i < 5; i++)
        {
            await _client.CoreV1.CreateNamespacedPodAsync(Pod($"p{i}", "node-1"), "default");
        }

        var names = new List<string>();
        string? token = null;
        var pages = 0;
        do
        {
            var page = await _client.CoreV1.ListNamespacedPodAsync("default", limit: 2, continueParameter: token);
            Assert.True(page.Items.Count <= 2);
            names.AddRange(page.Items.Select(p => p.Metadata.Name));
            token = page.Metadata.ContinueProperty;
            pages++;
        }
        while (!string.IsNullOrEmpty(token) && pages < 10);

        Assert.Equal(3, pages);
        Assert.Equal(["p0", "p1", "p2", "p3", "p4"], names);
    }
}
