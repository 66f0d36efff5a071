using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using BranchEni.Packaging.Tests.Support;
using BranchEni.Sandbox.Hosting;

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

            await RunControllerAsync(manifests, recorded, admin);
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

        // Renewing the Secret (update) is granted but not reached by a short run: the certificate is a year young.
        var unused = grants.Where(g => !observed.Any(o => Allows(g, o.Access!, o.Name))).Select(g => $"{g.Verb} {g.Group}/{g.Resource}").ToList();
        Assert.Equal(["update /secrets"], unused);
    }

    private static async Task RunControllerAsync(Manifests manifests, string kubeconfig, string admin)
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
            Environment = { ["KUBECONFIG"] = kubeconfig, ["POD_NAMESPACE"] = "kube-system", ["POD_NAME"] = "controller-0" },
        };
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

        Assert.Equal(0, Kill(process.Id, 15));
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(process.ExitCode == 0, await output);
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
