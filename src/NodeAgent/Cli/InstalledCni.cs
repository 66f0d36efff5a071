using System.Text.Json;
using BranchEni.Agent.Configuration;
using BranchEni.Agent.Node;
using BranchEni.Contracts;

namespace BranchEni.Agent.Cli;

/// <summary>
/// What the agent installed for kubelet: the CNI binary and the conflist (<see cref="CniInstaller"/>), and from the
/// conflist's branch-eni entry the settings the kernel layout depends on (enforcingMode, vethPrefix, stateDir).
/// </summary>
internal sealed record InstalledCni
{
    public required string BinaryPath { get; init; }

    public required bool BinaryInstalled { get; init; }

    public required string ConflistPath { get; init; }

    public required bool ConflistInstalled { get; init; }

    /// <summary>Why the conflist could not be used (unreadable, not JSON, no branch-eni plugin, bad mode).</summary>
    public string? ConflistError { get; init; }

    /// <summary>enforcingMode from the conflist (strict when the entry omits it, as in the CNI); null without a usable conflist.</summary>
    public EnforcingMode? Mode { get; init; }

    public string VethPrefix { get; init; } = BranchKernelLayout.DefaultVethPrefix;

    /// <summary>The CNI's stateDir from the conflist, when it names one.</summary>
    public string? StateDir { get; init; }

    public static InstalledCni Read(CliSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var binary = Path.Combine(settings.CniBinDir, "branch-eni");
        var conflist = Path.Combine(settings.CniConfDir, CniInstaller.ConflistName);
        var found = new InstalledCni
        {
            BinaryPath = binary,
            BinaryInstalled = File.Exists(binary),
            ConflistPath = conflist,
            ConflistInstalled = File.Exists(conflist),
        };
        if (!found.ConflistInstalled)
        {
            return found;
        }

        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(conflist));
            return Parse(found, doc.RootElement);
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException or InvalidOperationException or OptionsException)
        {
            return found with { ConflistError = e.Message };
        }
    }

    private static InstalledCni Parse(InstalledCni found, JsonElement root)
    {
        if (!root.TryGetProperty("plugins", out var plugins) || plugins.ValueKind != JsonValueKind.Array)
        {
            return found with { ConflistError = "no \"plugins\" array" };
        }

        foreach (var plugin in plugins.EnumerateArray())
        {
            if (plugin.ValueKind == JsonValueKind.Object && String(plugin, "type") == "branch-eni")
            {
                return found with
                {
                    Mode = AgentOptions.Mode(String(plugin, "enforcingMode"), $"{found.ConflistPath} enforcingMode") ?? EnforcingMode.Strict,
                    VethPrefix = String(plugin, "vethPrefix") is { Length: > 0 } prefix ? prefix : BranchKernelLayout.DefaultVethPrefix,
                    StateDir = String(plugin, "stateDir"),
                };
            }
        }

        return found with { ConflistError = "no plugin of type branch-eni" };
    }

    private static string? String(JsonElement e, string name) =>
        e.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
