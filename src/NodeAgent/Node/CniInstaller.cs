using System.Text;
using System.Text.Json;
using BranchEni.Agent.Configuration;
using BranchEni.Contracts;
using Serilog;

namespace BranchEni.Agent.Node;

/// <summary>
/// Installs the CNI binary and its conflist into the host's CNI directories. Kubelet takes a conflist's presence as
/// "network ready", so this runs only once the agent is ready. Both files are written atomically (temp + rename).
/// </summary>
internal sealed class CniInstaller(AgentOptions options, ILogger log)
{
    /// <summary>Sorts before the usual 10-* conflists, so the runtime picks ours.</summary>
    public const string ConflistName = "05-branch-eni.conflist";

    /// <summary>The plugin's API reader, published beside it (src/CniPlugin/KubeReader).</summary>
    public const string KubeReaderName = "branch-eni-kube";

    public void Install()
    {
        if (options.CniConfDir is null || options.CniBinDir is null)
        {
            log.Information("CNI install is off (BRANCH_ENI_CNI_BIN_DIR or BRANCH_ENI_CNI_CONF_DIR empty)");
            return;
        }

        if (!File.Exists(options.CniBinary))
        {
            throw new NodePreparationException($"the CNI binary {options.CniBinary} (BRANCH_ENI_CNI_BINARY) does not exist");
        }

        Directory.CreateDirectory(options.CniBinDir);
        Directory.CreateDirectory(options.CniConfDir);
        var target = InstallExecutable(options.CniBinary, "branch-eni");
        // The plugin runs its Kubernetes reader from its own directory when no node record decides a pod.
        var reader = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(options.CniBinary))!, KubeReaderName);
        if (File.Exists(reader))
        {
            InstallExecutable(reader, KubeReaderName);
        }
        else
        {
            log.Warning("{Reader} is not beside {Binary}: pods the plugin must look up in the API will fail with code 5", KubeReaderName, options.CniBinary);
        }

        var conflist = Path.Combine(options.CniConfDir, ConflistName);
        var tempConf = conflist + ".tmp-" + Environment.ProcessId;
        File.WriteAllText(tempConf, Conflist());
        File.Move(tempConf, conflist, overwrite: true);
        log.Information("Installed {Binary} and {Conflist}", target, conflist);
    }

    private string InstallExecutable(string source, string name)
    {
        var target = Path.Combine(options.CniBinDir!, name);
        var temp = target + ".tmp-" + Environment.ProcessId;
        File.Copy(source, temp, overwrite: true);
        File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        File.Move(temp, target, overwrite: true);
        return target;
    }

    /// <summary>The conflist (DESIGN.md §2, CNI plugin config names).</summary>
    internal string Conflist()
    {
        JsonElement? @delegate = null;
        if (options.CniDelegateFile is not null)
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(options.CniDelegateFile));
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("type", out _))
            {
                throw new OptionsException($"{options.CniDelegateFile} (BRANCH_ENI_CNI_DELEGATE_FILE) is not a plugin config with a \"type\"");
            }

            @delegate = doc.RootElement.Clone();
        }

        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("cniVersion", "1.0.0");
            w.WriteString("name", "branch-eni");
            w.WriteStartArray("plugins");
            w.WriteStartObject();
            w.WriteString("type", "branch-eni");
            w.WriteString("stateDir", options.StateDir);
            w.WriteString("enforcingMode", options.EnforcingMode.ConfigName());
            if (options.DefaultMetadataAccess is { } access)
            {
                // The plugin's API fallback applies the same default as the agent's records (MetadataAccessPolicy).
                w.WriteString("defaultPodMetadataAccess", access.ToString());
            }

            w.WriteString("logFile", options.PluginLogFile);
            w.WriteString("logLevel", options.PluginLogLevel);
            if (@delegate is { } d)
            {
                w.WritePropertyName("delegate");
                d.WriteTo(w);
            }

            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
