using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using BranchEni.Packaging.Tests.Support;
using BranchEni.Sandbox.Hosting;
using BranchEni.Testing;
using BranchEni.Sandbox.Seed;

namespace BranchEni.Packaging.Tests;

/// <summary>
/// The real agent executable started as the rendered DaemonSet starts it (its command, every env entry of the
/// manifest, host paths where the manifest mounts them), against the sandbox through a recording proxy, through a pod
/// lifecycle driven by the example SecurityGroupPolicies: ready, CNI installed, two pods get branch ENIs with the
/// examples' groups, both released after the cooldown, SIGTERM. The tests read what it did.
/// Test-only replacements, each because the test machine is not a node: the API server (kubeconfig to the proxy
/// instead of in-cluster), EC2 and IMDS endpoints and static credentials (the sandbox instead of the node's role),
/// the node's network namespace (a throwaway one instead of hostNetwork), a free health port (61680 may be taken on a
/// shared machine) and the 30 s minimum cooldown instead of 60 s (time).
/// </summary>
public sealed class AgentRun : IAsyncLifetime
{
    public const string NodeName = "node-1";
    public const string Namespace = "shop";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(40);

    private readonly string _netns = "be-pkg-" + Guid.NewGuid().ToString("N")[..8];
    private SandboxHost? _sandbox;
    private RecordingProxy? _proxy;
    private AgentProcess? _agent;

    public Manifests Manifests { get; } = Manifests.Kustomize();

    /// <summary>A temp folder standing for the node's root filesystem ("/" of the hostPath volumes).</summary>
    public string NodeRoot { get; } = Directory.CreateTempSubdirectory("branch-eni-pkg-node-").FullName;

    public Dictionary<string, string> Env { get; } = new(StringComparer.Ordinal);

    public IReadOnlyList<(string Method, string PathAndQuery)> Requests { get; private set; } = [];

    public IReadOnlyDictionary<string, long> Ec2Calls { get; private set; } = new Dictionary<string, long>();

    public Dictionary<string, List<string>> GroupsByPod { get; } = new(StringComparer.Ordinal);

    /// <summary>The sg.aws.tigera.io/* labels the agent wrote on each pod (with the service account's RBAC).</summary>
    public Dictionary<string, List<string>> SgLabelsByPod { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, HttpStatusCode> Probes { get; } = new(StringComparer.Ordinal);

    /// <summary>The scrape address answered /metrics with the agent's series and nothing else (no /healthz there).</summary>
    public bool MetricsScraped { get; private set; }

    public string? InstalledConflist { get; private set; }

    /// <summary>The file next to the agent executable that the agent must install (a stand-in unless a staged image
    /// folder brings the real binary).</summary>
    public byte[] CniBinaryShipped { get; private set; } = [];

    private static string ShippedCniPath => Path.Combine(Path.GetDirectoryName(AgentProcess.Executable)!, "branch-eni");

    private bool _wroteStandIn;
    private bool _netnsCreated;
    private bool _disposed;

    public byte[]? CniBinaryInstalled { get; private set; }

    public bool ExitedWithinGrace { get; private set; }

    public string AgentLog => _agent?.Log ?? "";

    public async Task InitializeAsync()
    {
        try
        {
            await RunScenarioAsync();
        }
        catch
        {
            // Whether or not xunit disposes a fixture whose initialisation failed, leave no namespace or process behind.
            await DisposeAsync();
            throw;
        }
    }

    private async Task RunScenarioAsync()
    {
        Run("ip", "netns", "add", _netns);
        _netnsCreated = true;
        var options = new SandboxOptions();
        foreach (var id in ExampleGroupIds())
        {
            options.Seed.SecurityGroups.Add(new SecurityGroupSeed { Id = id, Name = id, Description = "from packaging/examples" });
        }

        _sandbox = await SandboxHost.StartAsync(options);
        _proxy = await RecordingProxy.StartAsync(_sandbox.Endpoints.Kubernetes);
        BuildEnvironment();

        // The image ships the CNI binary next to the agent; BRANCH_ENI_CNI_BINARY is not set by the DaemonSet.
        if (!File.Exists(ShippedCniPath))
        {
            await File.WriteAllTextAsync(ShippedCniPath, "#!/bin/sh\n# stands for the branch-eni binary " + Guid.NewGuid() + "\n");
            _wroteStandIn = true;
        }

        CniBinaryShipped = await File.ReadAllBytesAsync(ShippedCniPath);
        _agent = AgentProcess.Start(Manifests.Command.Skip(1), Env, AgentProcess.EnvNames());
        try
        {
            await LifecycleAsync();
            ExitedWithinGrace = await _agent.TerminateAsync(TimeSpan.FromSeconds(Manifests.PodSpec["terminationGracePeriodSeconds"]!.GetValue<long>()));
        }
        catch (Exception e)
        {
            throw new InvalidOperationException($"{e.Message}\n--- agent output ---\n{_agent.Log}", e);
        }

        Requests = [.. _proxy.Requests];
        Ec2Calls = _sandbox.Admin.CallCounts.Where(c => c.Value.Calls > 0).ToDictionary(c => c.Key, c => c.Value.Calls);
    }

    private void BuildEnvironment()
    {
        foreach (var entry in Manifests.EnvEntries)
        {
            var name = entry["name"]!.GetValue<string>();
            Env[name] = entry["value"]?.GetValue<string>()
                ?? (entry["valueFrom"]?["fieldRef"]?["fieldPath"]?.GetValue<string>() == "spec.nodeName" ? NodeName
                    : throw new InvalidDataException($"env {name}: only literal values and the spec.nodeName fieldRef are expected"));
            if (Env[name].StartsWith('/') && Manifests.NodePathOf(Env[name]) is { } onNode)
            {
                Env[name] = Local(onNode);
            }
        }

        var kubeconfig = Path.Combine(NodeRoot, "kubeconfig");
        File.WriteAllText(kubeconfig, $$$"""
            apiVersion: v1
            kind: Config
            clusters: [{name: sandbox, cluster: {server: "{{{_proxy!.Address.ToString().TrimEnd('/')}}}"}}]
            users: [{name: agent, user: {token: sandbox}}]
            contexts: [{name: sandbox, context: {cluster: sandbox, user: agent}}]
            current-context: sandbox
            """);
        Env["KUBECONFIG"] = kubeconfig;
        Env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = _sandbox!.Endpoints.Imds.ToString().TrimEnd('/');
        Env["BRANCH_ENI_EC2_ENDPOINT"] = _sandbox.Endpoints.Ec2.ToString();
        Env["AWS_ACCESS_KEY_ID"] = "AKIDSANDBOX";
        Env["AWS_SECRET_ACCESS_KEY"] = "sandbox";
        Env["BRANCH_ENI_NETNS"] = $"/run/netns/{_netns}";
        Env["BRANCH_ENI_HEALTH_ADDRESS"] = $"127.0.0.1:{FreePort()}";
        // The DaemonSet's scrape address is every address of the node; here, test traffic stays on loopback.
        Env["BRANCH_ENI_METRICS_ADDRESS"] = $"127.0.0.1:{FreePort()}";
        Env["BRANCH_ENI_COOLDOWN_SECONDS"] = "30";

        // The operator turns Calico's annotation on (the manifest ships it off), so the run covers its EC2 check too.
        Env["ENABLE_SG_ANNOTATION"] = "true";
    }

    /// <summary>A node path (or "configmap:NAME/key") as a file under <see cref="NodeRoot"/>; configMap keys are
    /// written from the rendered ConfigMap as kubelet would project them.</summary>
    public string Local(string onNode)
    {
        if (onNode.StartsWith("configmap:", StringComparison.Ordinal))
        {
            var rest = onNode["configmap:".Length..];
            var name = rest.Split('/')[0];
            var dir = Path.Combine(NodeRoot, "configmaps", name);
            Directory.CreateDirectory(dir);
            foreach (var (key, value) in Manifests.Get("ConfigMap", name)["data"]!.AsObject())
            {
                File.WriteAllText(Path.Combine(dir, key), value!.GetValue<string>());
            }

            return Path.Combine(NodeRoot, "configmaps", rest);
        }

        return NodeRoot + onNode;
    }

    private async Task LifecycleAsync()
    {
        var admin = _sandbox!.Admin;
        var trunk = await EventuallyAsync(() => admin.Snapshot().NetworkInterfaces.FirstOrDefault(e => e.InterfaceType == "trunk" && e.InstanceId is not null), "trunk ENI attached");
        // The hot-plugged trunk device: a link with the trunk's MAC in the node's namespace.
        Run("ip", "-n", _netns, "link", "add", "eth1", "address", trunk.MacAddress, "type", "veth", "peer", "name", "p1");

        using var health = new HttpClient { BaseAddress = new Uri($"http://{Env["BRANCH_ENI_HEALTH_ADDRESS"]}"), Timeout = TimeSpan.FromSeconds(5) };
        var agent = Manifests.Agent;
        foreach (var probe in new[] { "readinessProbe", "livenessProbe" })
        {
            var path = agent[probe]!["httpGet"]!["path"]!.GetValue<string>();
            await EventuallyAsync(async () => (await health.GetAsync(path)).StatusCode == HttpStatusCode.OK ? "" : null, $"{probe} {path} answering 200");
            Probes[probe] = HttpStatusCode.OK;
        }

        using var scrape = new HttpClient { BaseAddress = new Uri($"http://{Env["BRANCH_ENI_METRICS_ADDRESS"]}"), Timeout = TimeSpan.FromSeconds(5) };
        MetricsScraped = (await scrape.GetStringAsync("/metrics")).Contains("branch_eni_", StringComparison.Ordinal)
            && (await scrape.GetAsync("/healthz")).StatusCode == HttpStatusCode.NotFound;

        var conflist = Path.Combine(Env["BRANCH_ENI_CNI_CONF_DIR"], "05-branch-eni.conflist");
        InstalledConflist = await EventuallyAsync(() => File.Exists(conflist) ? File.ReadAllText(conflist) : null, "conflist installed");
        CniBinaryInstalled = await File.ReadAllBytesAsync(Path.Combine(Env["BRANCH_ENI_CNI_BIN_DIR"], "branch-eni"));

        using var api = new HttpClient { BaseAddress = _sandbox.Endpoints.Kubernetes, Timeout = TimeSpan.FromSeconds(30) };
        await SendAsync(api, HttpMethod.Post, "/api/v1/namespaces", new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Namespace", ["metadata"] = new JsonObject { ["name"] = Namespace } });
        await SendAsync(api, HttpMethod.Post, $"/api/v1/namespaces/{Namespace}/serviceaccounts", new JsonObject
        {
            ["apiVersion"] = "v1", ["kind"] = "ServiceAccount",
            ["metadata"] = new JsonObject { ["name"] = "payments-api", ["labels"] = new JsonObject { ["team"] = "payments" } },
        });
        foreach (var sgp in ExampleSgps())
        {
            await SendAsync(api, HttpMethod.Post, $"/apis/vpcresources.k8s.aws/v1beta1/namespaces/{Namespace}/securitygrouppolicies", sgp);
        }

        var pods = new Dictionary<string, (string Labels, string ServiceAccount)>
        {
            ["green"] = ("green", "default"), ["pay"] = ("blue", "payments-api"), [AnnotatedPod] = ("calico", "default"),
        };
        foreach (var (name, (role, account)) in pods)
        {
            var pod = Pod(name, role, account);
            if (name == AnnotatedPod)
            {
                pod["metadata"]!["annotations"] = new JsonObject { ["aws.tigera.io/security-groups"] = $"[\"{ExampleGroupIds().First()}\"]" };
            }

            await SendAsync(api, HttpMethod.Post, $"/api/v1/namespaces/{Namespace}/pods", pod);
        }

        var enis = new List<string>();
        foreach (var name in pods.Keys)
        {
            var annotation = await EventuallyAsync(async () =>
                (await SendAsync(api, HttpMethod.Get, $"/api/v1/namespaces/{Namespace}/pods/{name}", null))["metadata"]?["annotations"]?["vpc.amazonaws.com/pod-eni"]?.GetValue<string>(),
                $"pod {name} annotated");
            var eniId = JsonNode.Parse(annotation)![0]!["eniId"]!.GetValue<string>();
            enis.Add(eniId);
            GroupsByPod[name] = admin.Snapshot().NetworkInterfaces.Single(e => e.Id == eniId).GroupIds;
            SgLabelsByPod[name] = await EventuallyAsync(async () =>
                (await SendAsync(api, HttpMethod.Get, $"/api/v1/namespaces/{Namespace}/pods/{name}", null))["metadata"]?["labels"]?.AsObject()
                    .Select(l => l.Key).Where(k => k.StartsWith("sg.aws.tigera.io/", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList() is { Count: > 0 } labels
                    ? labels : null,
                $"pod {name}'s sg.aws.tigera.io labels");
        }

        foreach (var name in pods.Keys)
        {
            await SendAsync(api, HttpMethod.Delete, $"/api/v1/namespaces/{Namespace}/pods/{name}", null);
        }

        await EventuallyAsync(() => admin.Snapshot().NetworkInterfaces.Any(e => enis.Contains(e.Id)) ? null : "", "branch ENIs deleted after the cooldown", TimeSpan.FromSeconds(100));
    }

    /// <summary>A pod placed in a group by Calico's annotation rather than by a policy.</summary>
    public const string AnnotatedPod = "calico";

    private static JsonObject Pod(string name, string role, string account) => new()
    {
        ["apiVersion"] = "v1",
        ["kind"] = "Pod",
        ["metadata"] = new JsonObject { ["name"] = name, ["labels"] = new JsonObject { ["role"] = role } },
        ["spec"] = new JsonObject
        {
            ["nodeName"] = NodeName,
            ["serviceAccountName"] = account,
            ["containers"] = new JsonArray(new JsonObject { ["name"] = "app", ["image"] = "busybox" }),
        },
    };

    public static IEnumerable<JsonObject> ExampleSgps() =>
        Directory.EnumerateFiles(Repo.PathOf("packaging", "examples"), "sgp-*.yaml").Order(StringComparer.Ordinal)
            .Select(f => Yaml.Single(File.ReadAllText(f)));

    public static IEnumerable<string> ExampleGroupIds() =>
        ExampleSgps().SelectMany(s => s["spec"]!["securityGroups"]!["groupIds"]!.AsArray().Select(g => g!.GetValue<string>())).Distinct();

    private static async Task<JsonObject> SendAsync(HttpClient api, HttpMethod method, string path, JsonObject? body)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        }

        using var response = await api.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return response.IsSuccessStatusCode
            ? JsonNode.Parse(text) as JsonObject ?? []
            : throw new InvalidOperationException($"{method} {path}: {(int)response.StatusCode} {text}");
    }

    private async Task<T> EventuallyAsync<T>(Func<T?> probe, string what, TimeSpan? timeout = null)
        where T : class => await EventuallyAsync(() => Task.FromResult(probe()), what, timeout);

    private async Task<T> EventuallyAsync<T>(Func<Task<T?>> probe, string what, TimeSpan? timeout = null)
        where T : class
    {
        var deadline = DateTime.UtcNow + (timeout ?? Wait);
        while (true)
        {
            if (_agent!.HasExited)
            {
                throw new InvalidOperationException($"the agent exited ({_agent.ExitCode}) while waiting for {what}");
            }

            try
            {
                if (await probe() is { } value)
                {
                    return value;
                }
            }
            catch (HttpRequestException)
            {
                // The health server is not listening yet.
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"timed out waiting for {what}");
            }

            await Task.Delay(100);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static void Run(string file, params string[] args) => Repo.Run(file, args);

    public async Task DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _agent?.Dispose();
        if (_proxy is not null)
        {
            await _proxy.DisposeAsync();
        }

        if (_sandbox is not null)
        {
            await _sandbox.DisposeAsync();
        }

        try
        {
            if (_netnsCreated)
            {
                Run("ip", "netns", "del", _netns);
            }
        }
        finally
        {
            if (_wroteStandIn)
            {
                File.Delete(ShippedCniPath);
            }

            Directory.Delete(NodeRoot, recursive: true);
        }
    }
}
