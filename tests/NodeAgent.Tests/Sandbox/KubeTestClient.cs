using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace BranchEni.Agent.Tests.Sandbox;

/// <summary>What a test does to the sandbox's API server as a user would (kubectl-like raw JSON over HTTP).</summary>
internal sealed class KubeTestClient(Uri server) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = server, Timeout = TimeSpan.FromSeconds(30) };

    public const string SgpPath = "/apis/vpcresources.k8s.aws/v1beta1/namespaces/{0}/securitygrouppolicies";

    public async Task<JsonObject> CreatePodAsync(string ns, string name, string node, string labels = "", string? annotation = null,
        string serviceAccount = "default", bool requestPodEni = false, IReadOnlyDictionary<string, string>? annotations = null)
    {
        var pod = new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Pod",
            ["metadata"] = new JsonObject
            {
                ["name"] = name,
                ["namespace"] = ns,
                ["labels"] = Labels(labels),
                ["annotations"] = Annotations(annotation, annotations),
            },
            ["spec"] = new JsonObject
            {
                ["nodeName"] = node,
                ["serviceAccountName"] = serviceAccount,
                ["containers"] = new JsonArray(new JsonObject
                {
                    ["name"] = "app",
                    ["image"] = "busybox",
                    ["resources"] = requestPodEni
                        ? new JsonObject { ["limits"] = new JsonObject { ["vpc.amazonaws.com/pod-eni"] = "1" }, ["requests"] = new JsonObject { ["vpc.amazonaws.com/pod-eni"] = "1" } }
                        : new JsonObject(),
                }),
            },
        };
        return await SendAsync(HttpMethod.Post, $"/api/v1/namespaces/{ns}/pods", pod);
    }

    private static JsonObject Annotations(string? podEni, IReadOnlyDictionary<string, string>? others)
    {
        var result = podEni is null ? new JsonObject() : new JsonObject { ["vpc.amazonaws.com/pod-eni"] = podEni };
        foreach (var (key, value) in others ?? new Dictionary<string, string>())
        {
            result[key] = value;
        }

        return result;
    }

    public Task<JsonObject> CreateNamespaceAsync(string name) =>
        SendAsync(HttpMethod.Post, "/api/v1/namespaces", new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Namespace", ["metadata"] = new JsonObject { ["name"] = name } });

    public Task<JsonObject> CreateSgpAsync(string ns, string name, string specJson) =>
        SendAsync(HttpMethod.Post, string.Format(System.Globalization.CultureInfo.InvariantCulture, SgpPath, ns), new JsonObject
        {
            ["apiVersion"] = "vpcresources.k8s.aws/v1beta1",
            ["kind"] = "SecurityGroupPolicy",
            ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns },
            ["spec"] = JsonNode.Parse(specJson),
        });

    public Task<JsonObject> CreateServiceAccountAsync(string ns, string name, string labels) =>
        SendAsync(HttpMethod.Post, $"/api/v1/namespaces/{ns}/serviceaccounts", new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "ServiceAccount",
            ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns, ["labels"] = Labels(labels) },
        });

    public Task DeleteSgpAsync(string ns, string name) =>
        SendAsync(HttpMethod.Delete, string.Format(System.Globalization.CultureInfo.InvariantCulture, SgpPath, ns) + "/" + name, null);

    public Task<JsonObject> PatchServiceAccountAsync(string ns, string name, string mergePatch) =>
        SendAsync(HttpMethod.Patch, $"/api/v1/namespaces/{ns}/serviceaccounts/{name}", JsonNode.Parse(mergePatch), "application/merge-patch+json");

    public Task<JsonObject> GetPodAsync(string ns, string name) => SendAsync(HttpMethod.Get, $"/api/v1/namespaces/{ns}/pods/{name}", null);

    public Task<JsonObject> ListPodsAsync(string ns) => SendAsync(HttpMethod.Get, $"/api/v1/namespaces/{ns}/pods", null);

    /// <summary>Pod name → pod-eni annotation, for the pods that have one.</summary>
    public async Task<Dictionary<string, string>> AnnotationsAsync(string ns)
    {
        var list = await ListPodsAsync(ns);
        return list["items"]!.AsArray()
            .Where(p => p!["metadata"]?["annotations"]?["vpc.amazonaws.com/pod-eni"] is not null)
            .ToDictionary(p => p!["metadata"]!["name"]!.GetValue<string>(), p => p!["metadata"]!["annotations"]!["vpc.amazonaws.com/pod-eni"]!.GetValue<string>());
    }

    /// <summary>Pod name → uid.</summary>
    public async Task<Dictionary<string, string>> UidsAsync(string ns) =>
        (await ListPodsAsync(ns))["items"]!.AsArray().ToDictionary(p => p!["metadata"]!["name"]!.GetValue<string>(), p => p!["metadata"]!["uid"]!.GetValue<string>());

    public Task<JsonObject> PatchPodAsync(string ns, string name, string mergePatch) =>
        SendAsync(HttpMethod.Patch, $"/api/v1/namespaces/{ns}/pods/{name}", JsonNode.Parse(mergePatch), "application/merge-patch+json");

    public Task<JsonObject> GetNodeAsync(string name) => SendAsync(HttpMethod.Get, $"/api/v1/nodes/{name}", null);

    public Task<JsonObject> ListEventsAsync(string ns) => SendAsync(HttpMethod.Get, $"/api/v1/namespaces/{ns}/events", null);

    public Task DeletePodAsync(string ns, string name) => SendAsync(HttpMethod.Delete, $"/api/v1/namespaces/{ns}/pods/{name}", null);

    public Task<JsonObject> PatchNodeStatusAsync(string name, string mergePatch) =>
        SendAsync(HttpMethod.Patch, $"/api/v1/nodes/{name}/status", JsonNode.Parse(mergePatch), "application/merge-patch+json");

    public Task<JsonObject> PatchPodStatusAsync(string ns, string name, string mergePatch) =>
        SendAsync(HttpMethod.Patch, $"/api/v1/namespaces/{ns}/pods/{name}/status", JsonNode.Parse(mergePatch), "application/merge-patch+json");

    /// <summary>The pod's annotation value, or null.</summary>
    public async Task<string?> PodEniAnnotationAsync(string ns, string name)
    {
        var pod = await GetPodAsync(ns, name);
        return pod["metadata"]?["annotations"]?["vpc.amazonaws.com/pod-eni"]?.GetValue<string>();
    }

    /// <summary>Reasons of the events about one object.</summary>
    public async Task<IReadOnlyList<(string Reason, string Message)>> EventsAboutAsync(string ns, string name)
    {
        var list = await ListEventsAsync(ns);
        return [.. list["items"]!.AsArray().Where(e => e!["involvedObject"]?["name"]?.GetValue<string>() == name)
            .Select(e => (e!["reason"]!.GetValue<string>(), e["message"]?.GetValue<string>() ?? ""))];
    }

    private async Task<JsonObject> SendAsync(HttpMethod method, string path, JsonNode? body, string contentType = "application/json")
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8);
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        }

        using var response = await _http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new KubeTestException(response.StatusCode, $"{method} {path}: {(int)response.StatusCode} {text}");
        }

        return JsonNode.Parse(text) as JsonObject ?? [];
    }

    private static JsonObject Labels(string text)
    {
        var labels = new JsonObject();
        foreach (var pair in text.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = pair.Split('=');
            labels[kv[0]] = kv[1];
        }

        return labels;
    }

    public void Dispose() => _http.Dispose();
}

internal sealed class KubeTestException(HttpStatusCode status, string message) : Exception(message)
{
    public HttpStatusCode Status { get; } = status;
}
