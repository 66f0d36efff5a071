namespace BranchEni.Agent.Cli;

/// <summary>How the debug commands print: a table for people, JSON (docs/cli.md) for scripts.</summary>
internal enum OutputFormat
{
    Table,
    Json,
}

/// <summary>
/// What every debug command is pointed at. Defaults are the agent's (same flags, same environment names), so the
/// commands run unchanged inside the agent's container (`kubectl exec ... branch-eni-agent pods`) or on the node.
/// </summary>
internal sealed record CliSettings
{
    public OutputFormat Output { get; init; } = OutputFormat.Table;

    public string StateDir { get; init; } = Contracts.NodeRecords.DefaultDirectory;

    public string CniConfDir { get; init; } = "/etc/cni/net.d";

    public string CniBinDir { get; init; } = "/opt/cni/bin";

    /// <summary>The namespace holding the node's interfaces; null: this process's own.</summary>
    public string? NodeNetns { get; init; }

    /// <summary>KUBECONFIG: when set, annotations and the node's capacity are read with a short timeout.</summary>
    public string? Kubeconfig { get; init; }

    public string? NodeName { get; init; }

    /// <summary>The agent's loopback health address (BRANCH_ENI_HEALTH_ADDRESS).</summary>
    public string HealthAddress { get; init; } = "127.0.0.1:61680";

    /// <summary>How long the optional agent and API reads may take before they count as unreachable.</summary>
    public TimeSpan ProbeTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>What the node's VLAN links are: 802.1Q (<see cref="Contracts.Dot1QVlanLink"/>) from the executable,
    /// a veth stand-in from host-kernel tests (no 8021q there).</summary>
    public required Contracts.IBranchVlanLink VlanLink { get; init; }
}

/// <summary>The documented exit codes (docs/cli.md).</summary>
internal static class ExitCodes
{
    /// <summary>All good: nothing differs, nothing left to clean.</summary>
    public const int Ok = 0;

    /// <summary>`verify` found differences, or `cleanup` could not remove something.</summary>
    public const int Differences = 1;

    /// <summary>Bad usage: unknown flag or value, a POD that matches no record (or several).</summary>
    public const int Usage = 2;

    /// <summary>The node could not be inspected: namespace or state directory unreadable, the node lock busy,
    /// or `cleanup` refused because a record does not parse (its VLAN might look orphaned).</summary>
    public const int CannotInspect = 3;
}
