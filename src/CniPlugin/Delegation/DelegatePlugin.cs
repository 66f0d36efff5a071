using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using BranchEni.Cni.Config;
using BranchEni.Cni.Protocol;

namespace BranchEni.Cni.Delegation;

/// <summary>
/// Runs the configured `delegate` plugin from CNI_PATH with our environment, for pods without a branch ENI. Its
/// config is completed with cniVersion (when it names none) and name; its result is re-shaped into our version.
/// </summary>
internal sealed class DelegatePlugin(JsonElement config, CniEnvironment env)
{
    public string Type { get; } = config.GetProperty("type").GetString()!;

    /// <summary>The version the delegate is spoken to in: its own when it names one, else ours.</summary>
    public string VersionFor(string ours) =>
        config.TryGetProperty("cniVersion", out var v) && v.GetString() is { } own ? own : ours;

    /// <summary>Runs <paramref name="command"/>; returns the delegate's stdout (its result) on success.</summary>
    public byte[] Invoke(string command, PluginConfig ours, JsonElement? prevResult, IReadOnlySet<string>? validIds = null)
    {
        var input = BuildConfig(ours, prevResult, command == "GC" ? validIds : null);
        var binary = Find();
        var psi = new ProcessStartInfo(binary)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.Environment.Clear();
        foreach (var (key, value) in env.Variables)
        {
            psi.Environment[key] = value;
        }

        psi.Environment["CNI_COMMAND"] = command;
        using var process = Process.Start(psi) ?? throw new CniException(CniErrorCode.DelegateFailure, $"cannot start delegate {binary}");
        var stderrTask = process.StandardError.ReadToEndAsync();
        using (var stdin = process.StandardInput.BaseStream)
        {
            stdin.Write(input);
        }

        using var stdout = new MemoryStream();
        process.StandardOutput.BaseStream.CopyTo(stdout);
        process.WaitForExit();
        var stderr = stderrTask.GetAwaiter().GetResult();
        if (process.ExitCode != 0)
        {
            throw FromDelegateError(stdout.ToArray(), stderr, process.ExitCode);
        }

        return stdout.ToArray();
    }

    /// <summary>The delegate's result re-shaped as ours (version field and ips' "version" per our cniVersion).</summary>
    public static CniResult Reshape(byte[] output, string ourVersion)
    {
        try
        {
            var result = CniJsonCodec.ReadResult(output)
                ?? throw new JsonException("null result");
            if (result.Interfaces?.Contains(null!) == true || result.Ips?.Contains(null!) == true || result.Routes?.Contains(null!) == true)
            {
                throw new JsonException("a null entry in interfaces, ips or routes");
            }

            return result.ForVersion(ourVersion);
        }
        catch (JsonException e)
        {
            throw new CniException(CniErrorCode.DelegateFailure, "the delegate's result is not a CNI result", e.Message);
        }
    }

    internal byte[] BuildConfig(PluginConfig ours, JsonElement? prevResult, IReadOnlySet<string>? validIds)
    {
        var node = JsonNode.Parse(config.GetRawText())!.AsObject();
        node["cniVersion"] = VersionFor(ours.CniVersion);
        node["name"] ??= ours.Name;
        node.Remove("prevResult");
        if (prevResult is { } prev)
        {
            // Our prevResult is in our version; the delegate parses it in its own (ptp refuses a 1.1.0 result).
            var reshaped = CniJsonCodec.ReadResult(prev)!.ForVersion(VersionFor(ours.CniVersion));
            node["prevResult"] = JsonNode.Parse(CniJsonCodec.ResultBytes(reshaped));
        }

        if (validIds is not null)
        {
            var list = new JsonArray();
            foreach (var id in validIds)
            {
                list.Add((JsonNode)new JsonObject { ["containerID"] = id, ["ifname"] = env.IfName ?? "eth0" });
            }

            node["cni.dev/valid-attachments"] = list;
        }

        return Encoding.UTF8.GetBytes(node.ToJsonString());
    }

    private string Find()
    {
        foreach (var dir in env.PluginPaths)
        {
            var candidate = Path.Combine(dir, Type);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new CniException(CniErrorCode.InvalidEnvironment,
            $"delegate plugin '{Type}' is not in CNI_PATH ({string.Join(':', env.PluginPaths)})");
    }

    private CniException FromDelegateError(byte[] stdout, string stderr, int exitCode)
    {
        try
        {
            using var doc = JsonDocument.Parse(stdout);
            var root = doc.RootElement;
            var code = root.TryGetProperty("code", out var c) && c.TryGetInt32(out var n) ? n : (int)CniErrorCode.DelegateFailure;
            var msg = root.TryGetProperty("msg", out var m) ? m.GetString() : null;
            var details = root.TryGetProperty("details", out var d) ? d.GetString() : null;
            return new CniException((CniErrorCode)code, $"delegate {Type}: {msg}", details);
        }
        catch (JsonException)
        {
            return new CniException(CniErrorCode.DelegateFailure, $"delegate {Type} exited {exitCode} without an error object", stderr.Trim());
        }
    }
}
