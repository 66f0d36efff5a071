using System.Net;
using System.Text.Json;
using k8s;
using k8s.Models;

namespace BranchEni.Sandbox.Tests.Kubernetes;

/// <summary>
/// Watch over HTTP as KubernetesClient.Aot users must do it (DESIGN.md §5: no Watcher): the client's credentials
/// on a hand-built request, headers-read streaming, one JSON event per line.
/// </summary>
public sealed class WatchTests : IAsyncLifetime
{
    private BranchEni.Sandbox.Hosting.SandboxHost _sandbox = null!;
    private k8s.Kubernetes _client = null!;
    private string _dir = "";

    public async Task InitializeAsync() => (_sandbox, _client, _dir) = await KubeClients.StartAsync();

    public Task DisposeAsync() => KubeClients.StopAsync(_sandbox, _client, _dir);

    private async Task<HttpResponseMessage> WatchAsync(string query)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_sandbox.Endpoints.Kubernetes, "/api/v1/pods?watch=true&" + query));
        await _client.Credentials.ProcessHttpRequestAsync(request, CancellationToken.None);
        return await _client.HttpClient.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    }

    private static V1Pod Pod(string name, string node) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new V1PodSpec { NodeName = node, Containers = [new V1Container { Name = "app", Image = "busybox" }] },
    };

    [Fact]
    public async Task A_watch_from_a_list_version_sees_added_modified_deleted_and_bookmarks_in_order()
    {
        var list = await _client.CoreV1.ListPodForAllNamespacesAsync();
        using var response = await WatchAsync($"resourceVersion={list.Metadata.ResourceVersion}&fieldSelector=spec.nodeName%3Dnode-1&allowWatchBookmarks=true&timeoutSeconds=10");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        await _client.CoreV1.CreateNamespacedPodAsync(Pod("other-node", "node-2"), "default");
        await _client.CoreV1.CreateNamespacedPodAsync(Pod("green", "node-1"), "default");
        await _client.CoreV1.PatchNamespacedPodAsync(new V1Patch("""{"metadata":{"labels":{"a":"b"}}}""", V1Patch.PatchType.MergePatch), "green", "default");
        await _client.CoreV1.DeleteNamespacedPodAsync("green", "default");

        var seen = new List<(string Type, string? Name)>();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(8));
        while (seen.Count(s => s.Type != "BOOKMARK") < 3 || !seen.Any(s => s.Type == "BOOKMARK"))
        {
            var line = await reader.ReadLineAsync(deadline.Token);
            Assert.NotNull(line);
            using var e = JsonDocument.Parse(line);
            var type = e.RootElement.GetProperty("type").GetString()!;
            if (type != "BOOKMARK")
            {
                var pod = KubernetesJson.Deserialize<V1Pod>(e.RootElement.GetProperty("object").GetRawText());
                seen.Add((type, pod.Metadata.Name));
            }
            else
            {
                Assert.False(string.IsNullOrEmpty(e.RootElement.GetProperty("object").GetProperty("metadata").GetProperty("resourceVersion").GetString()));
                seen.Add((type, null));
            }
        }

        Assert.Equal([("ADDED", "green"), ("MODIFIED", "green"), ("DELETED", "green")], seen.Where(s => s.Type != "BOOKMARK"));
    }

    [Fact]
    public async Task A_watch_without_a_version_starts_with_the_current_objects()
    {
        await _client.CoreV1.CreateNamespacedPodAsync(Pod("existing", "node-1"), "default");
        using var response = await WatchAsync("timeoutSeconds=2");
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var first = await reader.ReadLineAsync();
        using var e = JsonDocument.Parse(first!);
        Assert.Equal("ADDED", e.RootElement.GetProperty("type").GetString());
        Assert.Equal("existing", e.RootElement.GetProperty("object").GetProperty("metadata").GetProperty("name").GetString());
        Assert.Null(await reader.ReadLineAsync());
    }

    [Fact]
    public async Task A_version_older_than_the_kept_history_is_410_gone_with_an_expired_status()
    {
        var old = (await _client.CoreV1.ListPodForAllNamespacesAsync()).Metadata.ResourceVersion;
        await _client.CoreV1.CreateNamespacedPodAsync(Pod("p", "node-1"), "default");
        _sandbox.Admin.CompactKubernetesHistory();
        using var response = await WatchAsync($"resourceVersion={old}");
        Assert.Equal(HttpStatusCode.Gone, response.StatusCode);
        using var status = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("Status", status.RootElement.GetProperty("kind").GetString());
        Assert.Equal("Expired", status.RootElement.GetProperty("reason").GetString());
        Assert.Equal(410, status.RootElement.GetProperty("code").GetInt32());
    }
}
