using System.Diagnostics;
using System.Text.Json;

namespace BranchEni.Cni.Tests;

/// <summary>
/// A throwaway "node" namespace (where the plugin runs, so its host side lands there) and pod namespaces, created
/// with `ip netns add` and deleted on dispose. Nothing is ever added to the host's own namespace.
/// </summary>
public sealed class TestNamespaces : IDisposable
{
    private readonly List<string> created = [];

    public TestNamespaces(string tag = "t")
    {
        Suffix = $"{tag}{Guid.NewGuid():N}"[..10];
        Node = Add($"node-{Suffix}");
    }

    public string Suffix { get; }

    public string Node { get; }

    public string Add(string name)
    {
        Shell.Run($"ip netns add {name}");
        created.Add(name);
        Shell.Run($"ip -n {name} link set lo up");
        return name;
    }

    public static string PathOf(string name) => $"/run/netns/{name}";

    /// <summary>`ip -j` views of links, addresses, routes (all tables), rules and neighbours: equal before and after
    /// means the plugin left the namespace as it found it.</summary>
    public static string Snapshot(string ns)
    {
        var parts = new[]
        {
            Shell.Run($"ip -n {ns} -j -d link show"), Shell.Run($"ip -n {ns} -j addr show"),
            Shell.Run($"ip -n {ns} -j route show table all"), Shell.Run($"ip -n {ns} -j rule show"),
            Shell.Run($"ip -n {ns} -j neigh show nud permanent"),
        };
        return string.Join("\n", parts.Select(Normalize));
    }

    /// <summary>Drops what changes on its own, at any depth: counters, "used" ages, operstate of lo, and IPv6 duplicate
    /// address detection (a link-local address is "tentative" for a moment after a link comes up, and its lifetimes
    /// tick). The kernel's own `local fe80::…` route for that address appears only once detection ends, which can be
    /// after the "before" snapshot of a link brought up just before (seen as a flaky failure): routes to fe80:: are
    /// the kernel's, never the plugin's, and are left out.</summary>
    private static string Normalize(string json)
    {
        using var doc = JsonDocument.Parse(json.Length == 0 ? "[]" : json);
        return string.Join(",", doc.RootElement.EnumerateArray().Where(e => !IsKernelLinkLocalRoute(e)).Select(Render).Order(StringComparer.Ordinal));
    }

    private static bool IsKernelLinkLocalRoute(JsonElement e) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty("dst", out var dst) && dst.ValueKind == JsonValueKind.String
        && dst.GetString()!.StartsWith("fe80:", StringComparison.Ordinal);

    private static bool IsVolatile(string name) => name is "stats64" or "stats" or "operstate" or "linkinfo_data" or "used"
        or "tentative" or "valid_life_time" or "preferred_life_time";

    private static string Render(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => "{" + string.Join(";", e.EnumerateObject().Where(p => !IsVolatile(p.Name)).Select(p => $"{p.Name}={Render(p.Value)}")) + "}",
        JsonValueKind.Array => "[" + string.Join(",", e.EnumerateArray().Select(Render)) + "]",
        _ => e.GetRawText(),
    };

    public void Dispose()
    {
        foreach (var name in created)
        {
            Shell.TryRun($"ip netns del {name}");
        }
    }
}

/// <summary>Runs commands for tests; failures throw with the output.</summary>
public static class Shell
{
    public static string Run(string command)
    {
        var (code, stdout, stderr) = Exec("/bin/sh", ["-c", command], null, null);
        return code == 0 ? stdout : throw new InvalidOperationException($"`{command}` exited {code}: {stderr}{stdout}");
    }

    public static bool TryRun(string command) => Exec("/bin/sh", ["-c", command], null, null).Code == 0;

    public static (int Code, string Stdout, string Stderr) Exec(string file, IEnumerable<string> args, string? stdin,
        IReadOnlyDictionary<string, string>? env)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        if (env is not null)
        {
            psi.Environment.Clear();
            psi.Environment["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin";
            foreach (var (k, v) in env)
            {
                psi.Environment[k] = v;
            }
        }

        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEndAsync();
        p.StandardInput.Write(stdin ?? "");
        p.StandardInput.Close();
        p.WaitForExit();
        return (p.ExitCode, output.GetAwaiter().GetResult(), err.GetAwaiter().GetResult());
    }
}
