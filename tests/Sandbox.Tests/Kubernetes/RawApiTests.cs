using System.Net;
using System.Text;
using System.Text.Json;

namespace BranchEni.Sandbox.Tests.Kubernetes;

/// <summary>SecurityGroupPolicy update and watch, and malformed requests, over plain HTTP.</summary>
public sealed class RawApiTests : IAsyncLifetime
{
    private const string Sgps = "/apis/vpcresources.k8s.aws/v1beta1/namespaces/default/securitygrouppolicies";
    private BranchEni.Sandbox.Hosting.SandboxHost _sandbox = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _sandbox = await TestSandbox.StartAsync();
        _http = new HttpClient { BaseAddress = _sandbox.Endpoints.Kubernetes };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _sandbox.DisposeAsync();
    }

    private async Task<(HttpStatusCode, JsonElement)> SendAsync(HttpMethod method, string path, string? json = null, string contentType = "application/json")
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, contentType);
        }

        using var response = await _http.SendAsync(request);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (response.StatusCode, doc.RootElement.Clone());
    }

    [Fact]
    public async Task A_policy_is_updated_with_its_resource_version_and_watched_by_namespace()
    {
        var (created, sgp) = await SendAsync(HttpMethod.Post, Sgps,
            """{"apiVersion":"vpcresources.k8s.aws/v1beta1","kind":"SecurityGroupPolicy","metadata":{"name":"p"},"spec":{"securityGroups":{"groupIds":["sg-1"]}}}""");
        Assert.Equal(HttpStatusCode.Created, created);
        var rv = sgp.GetProperty("metadata").GetProperty("resourceVersion").GetString();

        using var watch = await _http.GetAsync($"{Sgps}?watch=true&resourceVersion={rv}&timeoutSeconds=5", HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await watch.Content.ReadAsStreamAsync());

        var put = """{"apiVersion":"vpcresources.k8s.aws/v1beta1","kind":"SecurityGroupPolicy","metadata":{"name":"p","resourceVersion":"RV"},"spec":{"securityGroups":{"groupIds":["sg-2"]}}}"""
            .Replace("RV", rv, StringComparison.Ordinal);
        var (updated, after) = await SendAsync(HttpMethod.Put, Sgps + "/p", put);
        Assert.Equal(HttpStatusCode.OK, updated);
        Assert.Equal("sg-2", after.GetProperty("spec").GetProperty("securityGroups").GetProperty("groupIds")[0].GetString());
        var (stale, status) = await SendAsync(HttpMethod.Put, Sgps + "/p", put);
        Assert.Equal(HttpStatusCode.Conflict, stale);
        Assert.Equal("Conflict", status.GetProperty("reason").GetString());

        using var e = JsonDocument.Parse((await reader.ReadLineAsync())!);
        Assert.Equal("MODIFIED", e.RootElement.GetProperty("type").GetString());
        Assert.Equal("sg-2", e.RootElement.GetProperty("object").GetProperty("spec").GetProperty("securityGroups").GetProperty("groupIds")[0].GetString());
    }

    [Theory]
    [InlineData("GET", "/api/v1/namespaces/default/widgets", null, "application/json", HttpStatusCode.NotFound)]
    [InlineData("POST", "/api/v1/namespaces/default/pods", "[1,2]", "application/json", HttpStatusCode.BadRequest)]
    [InlineData("POST", "/api/v1/namespaces/default/pods", "kind: Pod", "application/yaml", HttpStatusCode.UnsupportedMediaType)]
    [InlineData("PATCH", "/api/v1/nodes/node-1", "{}", "application/apply-patch+yaml", HttpStatusCode.UnsupportedMediaType)]
    [InlineData("PATCH", "/api/v1/nodes/node-1", "{\"a\":1}", "application/json-patch+json", HttpStatusCode.BadRequest)]
    [InlineData("PATCH", "/api/v1/nodes/node-1", "[{\"op\":\"remove\",\"path\":\"/nope\"}]", "application/json-patch+json", HttpStatusCode.UnprocessableEntity)]
    [InlineData("DELETE", "/api/v1/namespaces/default/pods", null, "application/json", HttpStatusCode.MethodNotAllowed)]
    [InlineData("GET", "/api/v1/pods?limit=abc", null, "application/json", HttpStatusCode.BadRequest)]
    [InlineData("GET", "/api/v1/pods?labelSelector=app+in+green", null, "application/json", HttpStatusCode.BadRequest)]
    [InlineData("GET", "/api/v1/pods?continue=bogus", null, "application/json", HttpStatusCode.BadRequest)]
    [InlineData("POST", "/api/v1/namespaces/default/pods?dryRun=Bogus", "{\"metadata\":{\"name\":\"x\"}}", "application/json", HttpStatusCode.UnprocessableEntity)]
    public async Task Bad_requests_get_status_objects_and_change_nothing(string method, string path, string? body, string contentType, HttpStatusCode expected)
    {
        var before = _sandbox.Admin.Snapshot().NetworkInterfaces.Count;
        var (status, answer) = await SendAsync(new HttpMethod(method), path, body, contentType);
        Assert.Equal(expected, status);
        Assert.Equal("Status", answer.GetProperty("kind").GetString());
        Assert.Equal((int)expected, answer.GetProperty("code").GetInt32());
        var (_, pods) = await SendAsync(HttpMethod.Get, "/api/v1/pods");
        Assert.Empty(pods.GetProperty("items").EnumerateArray());
        var (_, node) = await SendAsync(HttpMethod.Get, "/api/v1/nodes/node-1");
        Assert.False(node.GetProperty("metadata").TryGetProperty("annotations", out _));
        Assert.Equal(before, _sandbox.Admin.Snapshot().NetworkInterfaces.Count);
    }
}
