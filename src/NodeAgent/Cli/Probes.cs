using System.Globalization;
using System.Net;
using System.Text.Json;
using BranchEni.Agent.Configuration;
using BranchEni.Agent.Kubernetes;
using BranchEni.Contracts;
using BranchEni.Policy;

namespace BranchEni.Agent.Cli;

/// <summary>What the agent's loopback endpoints said, if anything.</summary>
internal sealed record AgentHealth(string Address, bool Reachable, string? Healthz, string? Readyz, int? Capacity, string? Error);

/// <summary>
/// The optional reads: the agent's /healthz, /readyz and /metrics, and (only when KUBECONFIG is given) the pods'
/// annotations and the node's capacity. Each has a short deadline; failing ones are reported as unreachable, never
/// as an error of the command: the debug commands must work with the agent and the API server down.
/// </summary>
internal sealed class Probes(CliSettings settings) : IDisposable
{
    private KubeApi? _kube;
    private bool _kubeTried;

    public async Task<AgentHealth> AgentAsync()
    {
        var address = settings.HealthAddress;
        if (!AgentOptions.TryParseLoopback(address, out var endpoint))
        {
            return new AgentHealth(address, false, null, null, null, $"'{address}' is not a loopback host:port");
        }

        using var http = new HttpClient { Timeout = settings.ProbeTimeout, BaseAddress = new Uri($"http://{endpoint}/") };
        // One deadline for the three reads: a hung agent costs the operator one timeout, not three.
        using var deadline = new CancellationTokenSource(settings.ProbeTimeout);
        try
        {
            var healthz = await ReadAsync(http, "healthz", deadline.Token).ConfigureAwait(false);
            var readyz = await ReadAsync(http, "readyz", deadline.Token).ConfigureAwait(false);
            var metrics = await ReadAsync(http, "metrics", deadline.Token).ConfigureAwait(false);
            int? inUse = Gauge(metrics, "branch_eni_branches_in_use"), free = Gauge(metrics, "branch_eni_free_vlans");
            return new AgentHealth(address, true, healthz, readyz, inUse + free, null);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            return new AgentHealth(address, false, null, null, null, e is OperationCanceledException ? "timed out" : e.Message);
        }
    }

    /// <summary>The node's `vpc.amazonaws.com/pod-eni` capacity; null when unknown or unreachable.</summary>
    public async Task<int?> NodeCapacityAsync()
    {
        if (settings.NodeName is not { } nodeName || (await GetAsync($"/api/v1/nodes/{Uri.EscapeDataString(nodeName)}").ConfigureAwait(false)).Doc is not { } node)
        {
            return null;
        }

        using (node)
        {
            return node.RootElement.TryGetProperty("status", out var status) && status.TryGetProperty("capacity", out var capacity)
                && capacity.TryGetProperty(PodEni.Resource, out var value) && value.ValueKind == JsonValueKind.String
                && int.TryParse(value.GetString(), CultureInfo.InvariantCulture, out var n) ? n : null;
        }
    }

    /// <summary>"agrees", "differs: ...", "absent" (pod or annotation gone) or "unknown" (no KUBECONFIG, unreachable).</summary>
    public async Task<string> AnnotationAsync(RecordedPod pod)
    {
        ArgumentNullException.ThrowIfNull(pod);
        if (pod.Record is not { PodNamespace: { } ns, PodName: { } name } || pod.Branch is not { } recorded)
        {
            return "unknown";
        }

        var path = $"/api/v1/namespaces/{Uri.EscapeDataString(ns)}/pods/{Uri.EscapeDataString(name)}";
        var (doc, notFound) = await GetAsync(path).ConfigureAwait(false);
        using var owned = doc;
        if (doc is null)
        {
            return notFound ? "absent" : "unknown";
        }

        var view = PodView.Parse(doc.RootElement);
        if (view.Uid != pod.Uid)
        {
            return $"differs: the pod {ns}/{name} now has uid {view.Uid}";
        }

        if (view.PodEniAnnotation is not { } annotation)
        {
            return "absent";
        }

        try
        {
            var a = BranchEniParser.ParseAnnotation(annotation);
            var same = a.EniId == recorded.EniId && a.Mac.Equals(recorded.Mac) && a.PrivateIp.Equals(recorded.PrivateIp) && a.VlanId == recorded.VlanId;
            return same ? "agrees" : $"differs: annotation has {a.EniId} vlan {a.VlanId} {a.PrivateIp} {a.MacText}";
        }
        catch (BranchEniFormatException e)
        {
            return $"differs: annotation unusable ({e.Message})";
        }
    }

    public void Dispose() => _kube?.Dispose();

    /// <summary>The object, or null with NotFound true only for a real 404 (unreachable is unknown, not absent).</summary>
    private async Task<(JsonDocument? Doc, bool NotFound)> GetAsync(string path)
    {
        if (Kube() is not { } kube)
        {
            return (null, false);
        }

        try
        {
            using var deadline = new CancellationTokenSource(settings.ProbeTimeout);
            using var response = await kube.Connection.GetAsync(path, deadline.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                return (null, response.StatusCode == HttpStatusCode.NotFound);
            }

            var body = await response.Content.ReadAsByteArrayAsync(deadline.Token).ConfigureAwait(false);
            return (JsonDocument.Parse(body), false);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or JsonException or IOException)
        {
            DisableKube();
            return (null, false);
        }
    }

    private KubeApi? Kube()
    {
        if (!_kubeTried)
        {
            _kubeTried = true;
            try
            {
                _kube = settings.Kubeconfig is { } file ? KubeApi.Connect(file) : null;
            }
            catch (Exception e) when (e is k8s.Exceptions.KubeConfigException or IOException or UnauthorizedAccessException)
            {
                _kube = null;
            }
        }

        return _kube;
    }

    private void DisableKube()
    {
        // One timeout is enough: later pods would each wait for it again.
        _kube?.Dispose();
        _kube = null;
    }

    private static async Task<string> ReadAsync(HttpClient http, string path, CancellationToken ct)
    {
        using var response = await http.GetAsync(new Uri(path, UriKind.Relative), ct).ConfigureAwait(false);
        var body = (await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false)).Trim();
        return response.StatusCode == HttpStatusCode.OK ? body : $"{(int)response.StatusCode} {body}";
    }

    private static int? Gauge(string metrics, string name)
    {
        foreach (var line in metrics.Split('\n'))
        {
            if (line.StartsWith(name + " ", StringComparison.Ordinal)
                && double.TryParse(line.AsSpan(name.Length + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                return (int)value;
            }
        }

        return null;
    }
}
