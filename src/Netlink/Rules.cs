using System.Net;
using System.Net.Sockets;

namespace BranchEni.Netlink;

/// <summary>What a matching rule does (FR_ACT_* from linux/fib_rules.h).</summary>
public enum RuleAction : byte
{
    ToTable = 1,
    Goto = 2,
    Nop = 3,
    Blackhole = 6,
    Unreachable = 7,
    Prohibit = 8,
}

/// <summary>A policy routing rule (one RTM_NEWRULE). Every selector is null when unset.</summary>
public sealed record Rule
{
    /// <summary>InterNetwork or InterNetworkV6; must agree with <see cref="From"/> and <see cref="To"/> when set.</summary>
    public AddressFamily Family { get; init; } = AddressFamily.InterNetwork;

    /// <summary>FRA_PRIORITY ("priority"); null lets the kernel choose on add and matches any on delete.</summary>
    public uint? Priority { get; init; }

    /// <summary>FRA_IIFNAME ("iif").</summary>
    public string? IifName { get; init; }

    /// <summary>FRA_OIFNAME ("oif").</summary>
    public string? OifName { get; init; }

    /// <summary>FRA_SRC with its prefix length ("from").</summary>
    public IPNetwork? From { get; init; }

    /// <summary>FRA_DST with its prefix length ("to").</summary>
    public IPNetwork? To { get; init; }

    /// <summary>The table to look up ("lookup"/"table").</summary>
    public uint? Table { get; init; }

    /// <summary>FRA_FWMARK ("fwmark").</summary>
    public uint? FwMark { get; init; }

    /// <summary>FRA_FWMASK ("fwmark MARK/MASK").</summary>
    public uint? FwMask { get; init; }

    /// <summary>frh.action.</summary>
    public RuleAction Action { get; init; } = RuleAction.ToTable;
}
