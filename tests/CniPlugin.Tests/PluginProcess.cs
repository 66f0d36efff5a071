using System.Text.Json;
using BranchEni.Testing;

namespace BranchEni.Cni.Tests;

/// <summary>The published native binary run exactly as a runtime runs it, inside the test's node namespace.</summary>
public static class PluginProcess
{
    public const string CniPath = "/usr/lib/cni";

    public sealed record Outcome(int ExitCode, string Stdout, string Stderr)
    {
        public JsonElement Json => JsonDocument.Parse(Stdout).RootElement;

        public int? ErrorCode => ExitCode != 0 && Stdout.Length > 0 ? Json.GetProperty("code").GetInt32() : null;

        public Outcome EnsureSuccess() =>
            ExitCode == 0 ? this : throw new InvalidOperationException($"plugin exited {ExitCode}: {Stdout} {Stderr}");
    }

    public static Outcome Run(string nodeNs, string command, string config, string containerId, string? netns,
        string? cniArgs = null, string ifName = "eth0", IReadOnlyDictionary<string, string>? extraEnv = null,
        IReadOnlyList<string>? unset = null)
    {
        var env = new Dictionary<string, string>
        {
            ["CNI_COMMAND"] = command, ["CNI_CONTAINERID"] = containerId, ["CNI_IFNAME"] = ifName, ["CNI_PATH"] = CniPath,
        };
        if (netns is not null)
        {
            env["CNI_NETNS"] = netns;
        }

        if (cniArgs is not null)
        {
            env["CNI_ARGS"] = cniArgs;
        }

        foreach (var (k, v) in extraEnv ?? new Dictionary<string, string>())
        {
            env[k] = v;
        }

        foreach (var name in unset ?? [])
        {
            env.Remove(name);
        }

        var (code, stdout, stderr) = Shell.Exec("/usr/sbin/ip", ["netns", "exec", nodeNs, RepoPaths.RequireCniBinary()], config, env);
        return new Outcome(code, stdout, stderr);
    }

    /// <summary>The config with prevResult (or any other field) added.</summary>
    public static string With(string config, string field, string json)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(config)!.AsObject();
        node[field] = System.Text.Json.Nodes.JsonNode.Parse(json);
        return node.ToJsonString();
    }
}
