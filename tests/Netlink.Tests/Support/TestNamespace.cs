using System.Diagnostics;
using System.Text.Json;

namespace BranchEni.Netlink.Tests.Support;

/// <summary>A throwaway network namespace (`ip netns add nl-test-…`), deleted on dispose, with `ip -j` helpers.</summary>
public sealed class TestNamespace : IDisposable
{
    public TestNamespace()
    {
        Name = $"nl-test-{Guid.NewGuid():N}"[..20];
        Support.Ip.Run("netns", "add", Name);
        Support.Ip.Run("-n", Name, "link", "set", "lo", "up");
        Namespace = NetworkNamespace.Open(Path);
    }

    public string Name { get; }

    public string Path => $"/run/netns/{Name}";

    /// <summary>Opened once; tests pass it to the library (IFLA_NET_NS_FD, handles, sysctl).</summary>
    public NetworkNamespace Namespace { get; }

    public NetlinkHandle OpenHandle() => NetlinkHandle.Open(Namespace);

    /// <summary>Runs `ip -n NAME args…` and returns stdout; a non-zero exit fails the test.</summary>
    public string Ip(params string[] args) => Support.Ip.Run(["-n", Name, .. args]);

    /// <summary>Runs `ip -j -n NAME args…` and parses the JSON array it prints.</summary>
    public JsonElement[] IpJson(params string[] args)
    {
        var output = Support.Ip.Run(["-j", "-n", Name, .. args]);
        if (string.IsNullOrWhiteSpace(output))
        {
            return [];
        }

        using var document = JsonDocument.Parse(output);
        return document.RootElement.EnumerateArray().Select(e => e.Clone()).ToArray();
    }

    /// <summary>Runs a command inside the namespace (`ip netns exec NAME …`).</summary>
    public string Exec(params string[] args) => Support.Ip.Run(["netns", "exec", Name, .. args]);

    public void Dispose()
    {
        Namespace.Dispose();
        Support.Ip.Run("netns", "del", Name);
    }
}

/// <summary>Runs iproute2 as the cross-check of what the library did.</summary>
public static class Ip
{
    public static string Run(params string[] args) => Process("ip", args);

    public static string Process(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        using var process = System.Diagnostics.Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {process.ExitCode}: {stderr}");
        }

        return stdout.Result;
    }
}
