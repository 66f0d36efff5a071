using System.Net;
using System.Text.Json;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace BranchEni.Sandbox.Tests.Kubernetes;

/// <summary>The SecurityGroupPolicy CRD (vpcresources.k8s.aws/v1beta1, namespaced) through CustomObjects.*.</summary>
public sealed class SecurityGroupPolicyTests : IAsyncLifetime
{
    private const string Group = "vpcresources.k8s.aws";
    private const string Version = "v1beta1";
    private const string Plural = "securitygrouppolicies";
    private BranchEni.Sandbox.Hosting.SandboxHost _sandbox = null!;
    private k8s.Kubernetes _client = null!;
    private string _dir = "";

    public async Task InitializeAsync() => (_sandbox, _client, _dir) = await KubeClients.StartAsync();

    public Task DisposeAsync() => KubeClients.StopAsync(_sandbox, _client, _dir);

    /// <summary>
    /// KubernetesClient.Aot cannot serialize a JsonElement body (its source-generated context knows only the typed
    /// models), so custom objects are created with the client's own HttpClient and credentials, as the agent would.
    /// </summary>
    private async Task<(HttpStatusCode Status, JsonElement Body)> CreateAsync(string json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post,
            new Uri(_sandbox.Endpoints.Kubernetes, $"/apis/{Group}/{Version}/namespaces/default/{Plural}"))
        {
            Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json"),
        };
        await _client.Credentials.ProcessHttpRequestAsync(request, CancellationToken.None);
        using var response = await _client.HttpClient.SendAsync(request);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (response.StatusCode, body.RootElement.Clone());
    }

    private static string Sgp(string name, string groupIds) => $$$"""
        {"apiVersion": "vpcresources.k8s.aws/v1beta1", "kind": "SecurityGroupPolicy",
         "metadata": {"name": "{{{name}}}"},
         "spec": {"podSelector": {"matchLabels": {"app": "green"}},
                  "serviceAccountSelector": {"matchExpressions": [{"key": "team", "operator": "In", "values": ["a"]}]},
                  "securityGroups": {"groupIds": {{{groupIds}}} } } }
        """;

    [Fact]
    public async Task Policies_are_created_listed_patched_replaced_and_deleted()
    {
        var (status, created) = await CreateAsync(Sgp("green-sgp", """["sg-0a1b2c3d4e5f62002"]"""));
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("SecurityGroupPolicy", created.GetProperty("kind").GetString());
        Assert.Equal("default", created.GetProperty("metadata").GetProperty("namespace").GetString());

        var list = (JsonElement)await _client.CustomObjects.ListNamespacedCustomObjectAsync(Group, Version, "default", Plural);
        var item = Assert.Single(list.GetProperty("items").EnumerateArray());
        Assert.Equal("sg-0a1b2c3d4e5f62002", item.GetProperty("spec").GetProperty("securityGroups").GetProperty("groupIds")[0].GetString());
        Assert.Equal("In", item.GetProperty("spec").GetProperty("serviceAccountSelector").GetProperty("matchExpressions")[0].GetProperty("operator").GetString());

        var patched = (JsonElement)await _client.CustomObjects.PatchNamespacedCustomObjectAsync(
            new V1Patch("""{"spec":{"securityGroups":{"groupIds":["sg-0a1b2c3d4e5f62002","sg-0a1b2c3d4e5f62003"]}}}""", V1Patch.PatchType.MergePatch),
            Group, Version, "default", Plural, "green-sgp");
        Assert.Equal(2, patched.GetProperty("spec").GetProperty("securityGroups").GetProperty("groupIds").GetArrayLength());
        Assert.Equal(2, patched.GetProperty("metadata").GetProperty("generation").GetInt32());

        var got = (JsonElement)await _client.CustomObjects.GetNamespacedCustomObjectAsync(Group, Version, "default", Plural, "green-sgp");
        Assert.Equal(patched.GetProperty("metadata").GetProperty("resourceVersion").GetString(), got.GetProperty("metadata").GetProperty("resourceVersion").GetString());

        var strategic = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CustomObjects.PatchNamespacedCustomObjectAsync(
            new V1Patch("""{"spec":{}}""", V1Patch.PatchType.StrategicMergePatch), Group, Version, "default", Plural, "green-sgp"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, strategic.Response.StatusCode);

        await _client.CustomObjects.DeleteNamespacedCustomObjectAsync(Group, Version, "default", Plural, "green-sgp");
        var gone = await Assert.ThrowsAsync<HttpOperationException>(() =>
            _client.CustomObjects.GetNamespacedCustomObjectAsync(Group, Version, "default", Plural, "green-sgp"));
        Assert.Equal(HttpStatusCode.NotFound, gone.Response.StatusCode);
    }

    [Fact]
    public async Task The_crd_schema_is_enforced_and_discovery_names_the_short_name()
    {
        var (emptyStatus, empty) = await CreateAsync(Sgp("no-groups", "[]"));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, emptyStatus);
        Assert.Equal("Invalid", empty.GetProperty("reason").GetString());
        Assert.Contains("groupIds", empty.GetProperty("message").GetString(), StringComparison.Ordinal);
        var (kindStatus, _) = await CreateAsync("""{"apiVersion":"vpcresources.k8s.aws/v1beta1","kind":"Pod","metadata":{"name":"x"}}""");
        Assert.Equal(HttpStatusCode.BadRequest, kindStatus);
        var (jsonStatus, notJson) = await CreateAsync("{not json");
        Assert.Equal(HttpStatusCode.BadRequest, jsonStatus);
        Assert.Equal("Status", notJson.GetProperty("kind").GetString());
        var list = (JsonElement)await _client.CustomObjects.ListNamespacedCustomObjectAsync(Group, Version, "default", Plural);
        Assert.Empty(list.GetProperty("items").EnumerateArray());

        using var http = new HttpClient { BaseAddress = _sandbox.Endpoints.Kubernetes };
        using var discovery = JsonDocument.Parse(await http.GetStringAsync("/apis/vpcresources.k8s.aws/v1beta1"));
        var sgp = discovery.RootElement.GetProperty("resources").EnumerateArray().Single(r => r.GetProperty("name").GetString() == Plural);
        Assert.True(sgp.GetProperty("namespaced").GetBoolean());
        Assert.Equal("sgp", sgp.GetProperty("shortNames")[0].GetString());
        Assert.Equal("SecurityGroupPolicy", sgp.GetProperty("kind").GetString());
    }
}
