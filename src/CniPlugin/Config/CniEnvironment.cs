using BranchEni.Cni.Protocol;

namespace BranchEni.Cni.Config;

/// <summary>The CNI_* variables of one invocation, checked for the command (spec "Parameters").</summary>
internal sealed record CniEnvironment
{
    /// <summary>Every variable the plugin reads (spec "Parameters").</summary>
    public static readonly string[] VariableNames = ["CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_ARGS", "CNI_PATH"];

    public required string Command { get; init; }

    public string? ContainerId { get; init; }

    public string? NetNs { get; init; }

    public string? IfName { get; init; }

    public required IReadOnlyList<string> PluginPaths { get; init; }

    public required CniArgs Args { get; init; }

    /// <summary>The raw environment, handed unchanged to a delegate.</summary>
    public required IReadOnlyDictionary<string, string> Variables { get; init; }

    public static CniEnvironment From(string command, IReadOnlyDictionary<string, string> env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var needsContainer = command is "ADD" or "DEL" or "CHECK";
        var containerId = Get(env, "CNI_CONTAINERID");
        if (needsContainer)
        {
            ContainerIdOf(containerId);
        }

        var netns = Get(env, "CNI_NETNS");
        if (command is "ADD" or "CHECK" && netns is null)
        {
            throw Missing("CNI_NETNS");
        }

        if (netns is not null && (netns[0] != '/' || netns.Contains('\0', StringComparison.Ordinal)))
        {
            throw new CniException(CniErrorCode.InvalidEnvironment, $"CNI_NETNS '{netns}' is not an absolute path");
        }

        var ifname = Get(env, "CNI_IFNAME");
        if (needsContainer)
        {
            try
            {
                PluginConfig.InterfaceName(ifname ?? throw Missing("CNI_IFNAME"), "CNI_IFNAME");
            }
            catch (CniException e) when (e.Code == CniErrorCode.InvalidNetworkConfig)
            {
                throw new CniException(CniErrorCode.InvalidEnvironment, $"CNI_IFNAME '{ifname}' is not an interface name (1..15 characters, no '/', ':', '%' or spaces)");
            }
        }

        var path = Get(env, "CNI_PATH");
        if (path is null && command != "VERSION")
        {
            throw Missing("CNI_PATH");
        }

        return new CniEnvironment
        {
            Command = command,
            ContainerId = containerId,
            NetNs = netns,
            IfName = ifname,
            PluginPaths = (path ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries),
            Args = CniArgs.Parse(Get(env, "CNI_ARGS")),
            Variables = env,
        };
    }

    /// <summary>Spec: alphanumeric plus '_', '.', '-', starting with an alphanumeric.</summary>
    private static void ContainerIdOf(string? id)
    {
        if (id is null)
        {
            throw Missing("CNI_CONTAINERID");
        }

        if (id.Length > 256 || !char.IsAsciiLetterOrDigit(id[0]) || id.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-')))
        {
            throw new CniException(CniErrorCode.InvalidEnvironment,
                $"CNI_CONTAINERID '{id}' is not a container id (letters, digits, '_', '.', '-', starting with a letter or digit)");
        }
    }

    private static string? Get(IReadOnlyDictionary<string, string> env, string name) =>
        env.TryGetValue(name, out var v) && v.Length > 0 ? v : null;

    private static CniException Missing(string name) => new(CniErrorCode.InvalidEnvironment, $"{name} is not set");
}
