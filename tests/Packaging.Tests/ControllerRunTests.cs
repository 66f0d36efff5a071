using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using BranchEni.Packaging.Tests.Support;
using BranchEni.Sandbox.Hosting;
using BranchEni.Testing;

namespace BranchEni.Packaging.Tests;

/// <summary>
/// The real branch-eni-controller, started with the Deployment's command, against the sandbox through the recording
/// proxy: its ClusterRole and Role grant exactly the requests it made, and the named ones only for its own objects.
/// </summary>
public sealed class ControllerRunTests
{
    private const string Name = "branch-eni-controller";

    /// <summary>A grant: verb, group/resource, and the resourceNames it is limited to (null: any name).</summary>
    private sealed record Grant(string Verb, string Group, string Resource, IReadOnlyList<string>? Names);

    [Fact]
    public async Task The_controllers_roles_grant_exactly_what_it_does_and_named_access_only_to_its_own_objects()
    {
        var manifests = Manifests.Kustomize();
        await using var sandbox = await SandboxHost.StartAsync();
        await using var proxy = await RecordingProxy.StartAsync(sandbox.Endpoints.Kubernetes);
        var dir = Directory.CreateTempSubdirectory("controller-run-").FullName;
        try
        {
            var admin = Path.Combine(dir, "admin");
            await File.WriteAllTextAsync(admin, sandbox.Kubeconfig());
            Repo.Run("kubectl", "--kubeconfig", admin, "apply", "-f", Repo.PathOf("packaging", "base", "webhooks.yaml"));
            var recorded = Path.Combine(dir, "recorded");
            await File.WriteAllTextAsync(recorded, $$$"""
                apiVersion: v1
                kind: Config
                clusters: [{name: sandbox, cluster: {server: "{{{proxy.Address.ToString().TrimEnd('/')}}}"}}]
                users: [{name: controller, user: {token: sandbox}}]
                contexts: [{name: controller, context: {cluster: sandbox, user: controller}}]
                current-context: controller
                """);

            await File.WriteAllTextAsync(Path.Combine(dir, "namespace.json"), """{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "app"}}""");
            Repo.Run("kubectl", "--kubeconfig", admin, "apply", "-f", Path.Combine(dir, "namespace.json"));
            await File.WriteAllTextAsync(Path.Combine(dir, "policy.json"), Policy(5432));
            Repo.Run("kubectl", "--kubeconfig", admin, "apply", "-f", Path.Combine(dir, "policy.json"));

            await RunControllerAsync(manifests, recorded, admin, sandbox.Endpoints.Ec2, dir);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }

        var observed = proxy.Requests.Select(r => (Access: ApiAccess.FromRequest(r.Method, r.PathAndQuery), Name: NameOf(r.PathAndQuery))).ToList();
        Assert.DoesNotContain(observed, o => o.Access is null);
        var grants = Grants(manifests.Get("ClusterRole", Name)).Concat(Grants(manifests.Get("Role", Name))).ToList();
        foreach (var (access, name) in observed.Select(o => (o.Access!, o.Name)).Distinct())
        {
            Assert.True(grants.Any(g => Allows(g, access, name)), $"{access} {name} was requested but is not granted");
        }

        // Granted but not reached by a short run: renewing the Secret (the certificate is a year young), the finalizers
        // check (only a real API server's admission asks it, for blockOwnerDeletion) and the Warning event of a name clash.
        var unused = grants.Where(g => !observed.Any(o => Allows(g, o.Access!, o.Name))).Select(g => $"{g.Verb} {g.Group}/{g.Resource}").ToList();
        Assert.Equal(["update networking.k8s.io/networkpolicies/finalizers", "create /events", "update /secrets"], unused);
    }

    /// <summary>A match-security-groups policy whose rule admits a security group's members on one port.</summary>
    private static string Policy(int port) => """
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
         "metadata": {"name": "db", "namespace": "app", "annotations": {"rules.networkpolicy.tigera.io/match-security-groups": "true"}},
         "spec": {"podSelector": {}, "ingress": [{"from": [{"podSelector": {"matchLabels": {"sg.aws.tigera.io/sg-0a1b2c3d4e5f62003": ""}}}],
                  "ports": [{"protocol": "TCP", "port": PORT}]}]}}
        """.Replace("PORT", port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);

    /// <summary>The companion's port, or null while there is none.</summary>
    private static long? CompanionPort(string admin)
    {
        var list = JsonNode.Parse(Repo.Run("kubectl", "--kubeconfig", admin, "get", "networkpolicy", "-n", "app", "-o", "json"))!["items"]!.AsArray();
        return list.FirstOrDefault(p => p!["metadata"]!["name"]!.GetValue<string>() == "db-sg")?["spec"]?["ingress"]?[0]?["ports"]?[0]?["port"]?.GetValue<long>();
    }

    private static async Task RunControllerAsync(Manifests manifests, string kubeconfig, string admin, Uri ec2, string dir)
    {
        var container = manifests.Get("Deployment", Name)["spec"]!["template"]!["spec"]!["containers"]![0]!;
        var command = container["command"]!.AsArray().Select(a => a!.GetValue<string>()).ToList();
        var args = container["args"]!.AsArray().Select(a => a!.GetValue<string>()).ToList();

        // Outside a cluster the Service cannot be dialled: the contract's --webhook-url replaces --webhook-service.
        var service = args.IndexOf("--webhook-service");
        var port = FreePort();
        var health = FreePort();
        args.RemoveRange(service, 2);
        var start = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, Path.GetFileName(command[0])))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment =
            {
                ["KUBECONFIG"] = kubeconfig, ["POD_NAMESPACE"] = "kube-system", ["POD_NAME"] = "controller-0",
                // What an operator adds for EC2 (packaging/README.md); credentials from the SDK's default chain.
                ["BRANCH_ENI_EC2_ENDPOINT"] = ec2.ToString(), ["AWS_REGION"] = "us-west-2",
                ["AWS_ACCESS_KEY_ID"] = "AKIASANDBOXEXAMPLE", ["AWS_SECRET_ACCESS_KEY"] = "sandbox-secret",
            },
        };
        foreach (var env in container["env"]!.AsArray().Where(e => e!["value"] is not null))
        {
            start.Environment[env!["name"]!.GetValue<string>()] = env["value"]!.GetValue<string>();
        }

        foreach (var arg in command.Skip(1).Concat(args).Concat(["--webhook-url", $"https://127.0.0.1:{port}", "--webhook-address", $"127.0.0.1:{port}", "--health-address", $"127.0.0.1:{health}"]))
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        using var http = new HttpClient();
        var deadline = Stopwatch.StartNew();
        while (!await DoneAsync(http, health, admin))
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(30) && !process.HasExited, "the controller did not become ready, lead and patch its webhooks:\n" + (process.HasExited ? await output : ""));
            await Task.Delay(100);
        }

        // The leader's companion job: created, updated when the policy changes, deleted with the policy.
        await WaitAsync(() => CompanionPort(admin) == 5432, "the companion", process, output);
        await File.WriteAllTextAsync(Path.Combine(dir, "policy.json"), Policy(5433));
        Repo.Run("kubectl", "--kubeconfig", admin, "apply", "-f", Path.Combine(dir, "policy.json"));
        await WaitAsync(() => CompanionPort(admin) == 5433, "the companion's update", process, output);
        Repo.Run("kubectl", "--kubeconfig", admin, "delete", "networkpolicy", "-n", "app", "db");
        await WaitAsync(() => CompanionPort(admin) is null, "the companion's deletion", process, output);

        Assert.Equal(0, Kill(process.Id, 15));
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(process.ExitCode == 0, await output);
    }

    private static async Task WaitAsync(Func<bool> condition, string what, Process process, Task<string> output)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(30) && !process.HasExited, $"waited for {what}:\n" + (process.HasExited ? await output : ""));
            await Task.Delay(200);
        }
    }

    private static async Task<bool> DoneAsync(HttpClient http, int health, string admin)
    {
        try
        {
            if ((await http.GetAsync(new Uri($"http://127.0.0.1:{health}/readyz"))).StatusCode != HttpStatusCode.OK
                || !(await http.GetStringAsync(new Uri($"http://127.0.0.1:{health}/metrics"))).Contains("branch_eni_controller_leader 1", StringComparison.Ordinal))
            {
                return false;
            }
        }
        catch (HttpRequestException)
        {
            return false;
        }

        var config = JsonNode.Parse(Repo.Run("kubectl", "--kubeconfig", admin, "get", "validatingwebhookconfiguration", "branch-eni", "-o", "json"))!;
        return config["webhooks"]![0]!["clientConfig"]!["caBundle"] is not null;
    }

    private static IEnumerable<Grant> Grants(JsonObject role) =>
        from rule in role["rules"]!.AsArray()
        from g in rule!["apiGroups"]!.AsArray()
        from r in rule["resources"]!.AsArray()
        from v in rule["verbs"]!.AsArray()
        select new Grant(v!.GetValue<string>(), g!.GetValue<string>(), r!.GetValue<string>(),
            rule["resourceNames"]?.AsArray().Select(n => n!.GetValue<string>()).ToList());

    private static bool Allows(Grant grant, ApiAccess access, string? name) =>
        grant.Verb == access.Verb && grant.Group == access.Group && grant.Resource == access.Resource
        && (grant.Names is null || (name is not null && grant.Names.Contains(name)));

    /// <summary>The object name a request names (RBAC's resourceNames apply to it), or null for collections.</summary>
    private static string? NameOf(string pathAndQuery)
    {
        var segments = pathAndQuery.Split('?')[0].Split('/', StringSplitOptions.RemoveEmptyEntries);
        var rest = segments[0] == "api" ? segments[2..] : segments[3..];
        return rest switch
        {
            ["namespaces", _, _, var name, ..] => name,
            ["namespaces", _, _] => null,
            [_, var name, ..] => name,
            _ => null,
        };
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
