namespace BranchEni.Contracts;

/// <summary>How pod traffic is steered (DESIGN.md §2 "Kernel layout per branch pod"): the CNI's `enforcingMode`, the
/// agent's POD_SECURITY_GROUP_ENFORCING_MODE that it writes there, and what `verify` checks the kernel against.</summary>
internal enum EnforcingMode
{
    /// <summary>All pod traffic, also to the node, goes through the VPC (prio-10 iif rules).</summary>
    Strict,

    /// <summary>Pod egress goes through the VPC; traffic to the pod may come from the node directly.</summary>
    Standard,
}

/// <summary>The one spelling of a mode in configuration: "strict" or "standard".</summary>
internal static class EnforcingModes
{
    public static string ConfigName(this EnforcingMode mode) => mode == EnforcingMode.Strict ? "strict" : "standard";

    /// <summary>The mode a configuration value names, exactly as written; null for anything else.</summary>
    public static EnforcingMode? FromConfigName(string? value) => value switch
    {
        "strict" => EnforcingMode.Strict,
        "standard" => EnforcingMode.Standard,
        _ => null,
    };
}
