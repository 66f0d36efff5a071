using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;

namespace BranchEni.Controller.Tests.Sandbox;

/// <summary>
/// The executable as the demo and operators start it (DESIGN.md "Process contracts"): `branch-eni-controller run`
/// with KUBECONFIG, --webhook-address and --webhook-url, built next to the tests; then what happens without it.
/// </summary>
public sealed class ControllerProcessTests(ControllerWorld world) : IClassFixture<ControllerWorld>
{
    private static string Pod(string name, string metadata = "") =>
        $$$"""{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "{{{name}}}", "namespace": "app", "labels": {"role": "backend"}{{{metadata}}}}, "spec": {"containers": [{"name": "app", "image": "busybox"}]}}""";

    private async Task<JsonNode?> RequestedAsync(string name) =>
        JsonNode.Parse((await Kubectl.RunAsync(world, "admin", null, "get", "pod", "-n", "app", name, "-o", "json")).Stdout)!["spec"]!["containers"]![0]!["resources"]?["requests"]?["vpc.amazonaws.com/pod-eni"];

    [Fact]
    public async Task The_process_serves_then_stops_on_sigterm_handing_back_its_lease_and_then_failure_policy_ignore_admits()
    {
        var caBefore = await CaBundleAsync();
        await world.StopControllerAsync();
        await Kubectl.RunAsync(world, "admin", """{"apiVersion": "vpcresources.k8s.aws/v1beta1", "kind": "SecurityGroupPolicy", "metadata": {"name": "backend", "namespace": "app"}, "spec": {"podSelector": {"matchLabels": {"role": "backend"}}, "securityGroups": {"groupIds": ["sg-0a"]}}}""", "apply", "-f", "-");

        var port = FreePort();
        var health = FreePort();
        var start = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "branch-eni-controller"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["KUBECONFIG"] = world.KubeconfigPath("admin"), ["POD_NAMESPACE"] = "kube-system" },
        };
        foreach (var arg in new[] { "run", "--webhook-address", $"127.0.0.1:{port}", "--webhook-url", $"https://127.0.0.1:{port}", "--health-address", $"127.0.0.1:{health}" })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var http = new HttpClient();
        await ControllerWorld.Eventually(async () => !process.HasExited && (await http.GetAsync(new Uri($"http://127.0.0.1:{health}/readyz"))).StatusCode == HttpStatusCode.OK,
            "the process's /readyz");
        await ControllerWorld.Eventually(async () => (await CaBundleAsync(port)) is not null, "the configurations to point at the process");

        // The Secret the in-process replica made is reused: same CA, so the caBundle did not change.
        Assert.Equal(caBefore, await CaBundleAsync(port));
        await Kubectl.RunAsync(world, "admin", Pod("via-process"), "create", "-f", "-");
        Assert.Equal("1", (await RequestedAsync("via-process"))!.GetValue<string>());
        await ControllerWorld.Eventually(async () => await HolderAsync() is { Length: > 0 }, "the process to take the Lease", seconds: 30);

        Assert.Equal(0, Kill(process.Id, 15));
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(15));
        Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}: {await errors}\n{await output}");
        Assert.Contains("\"Released Lease", await output, StringComparison.Ordinal);
        // Ready only after its own listener answered over TLS, so the first admission does not pay the first handshake.
        Assert.Contains("\"Webhook listener answered over TLS", await output, StringComparison.Ordinal);
        Assert.True(string.IsNullOrEmpty(await HolderAsync()));

        // No controller now: failurePolicy Ignore admits pods as they are (the fail-closed CNI keeps them isolated).
        await Kubectl.RunAsync(world, "admin", Pod("while-down"), "create", "-f", "-");
        Assert.Null(await RequestedAsync("while-down"));
    }

    private async Task<string?> CaBundleAsync(int? port = null)
    {
        var config = JsonNode.Parse((await Kubectl.RunAsync(world, "admin", null, "get", "mutatingwebhookconfiguration", "branch-eni", "-o", "json")).Stdout)!;
        var client = config["webhooks"]![0]!["clientConfig"]!;
        return port is null || client["url"]?.GetValue<string>()?.StartsWith($"https://127.0.0.1:{port}/", StringComparison.Ordinal) == true
            ? client["caBundle"]?.GetValue<string>()
            : null;
    }

    private async Task<string?> HolderAsync() =>
        JsonNode.Parse((await Kubectl.RunAsync(world, "admin", null, "get", "lease", "-n", "kube-system", "branch-eni-controller", "-o", "json")).Stdout)!["spec"]?["holderIdentity"]?.GetValue<string>();

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
