using System.Net.Sockets;
using System.Text;
using BranchEni.Netlink.Protocol;

namespace BranchEni.Netlink;

public sealed partial class NetlinkHandle
{
    /// <summary>Equivalent to: `ip [-6] rule add [priority P] [iif I] [oif O] [from F] [to T] [fwmark M/K] table N`,
    /// e.g. `ip rule add iif vlan.eth.7 table 107 priority 10`.</summary>
    public void AddRule(Rule rule) => ChangeRule(rule, add: true, ignoreMissing: false);

    /// <summary>Equivalent to: `ip [-6] rule del ...` with the same selectors. Throws ENOENT when absent.
    /// As in the kernel, an unset selector (and priority 0) matches any value: the first rule in priority order that
    /// matches every set selector is removed.</summary>
    public void DeleteRule(Rule rule) => ChangeRule(rule, add: false, ignoreMissing: false);

    /// <summary>Like <see cref="DeleteRule"/>, where "no such rule" is success; false if it was absent.</summary>
    public bool DeleteRuleIfExists(Rule rule) => ChangeRule(rule, add: false, ignoreMissing: true);

    /// <summary>Equivalent to: `ip [-6] rule show`.</summary>
    public IReadOnlyList<Rule> ListRules(AddressFamily family)
    {
        Span<byte> buffer = stackalloc byte[RequestBufferSize];
        var length = RuleCodec.Dump(buffer, family);
        return Dump(buffer[..length], family == AddressFamily.InterNetworkV6 ? "ip -6 rule show" : "ip rule show", RuleCodec.Parse);
    }

    private bool ChangeRule(Rule rule, bool add, bool ignoreMissing)
    {
        ArgumentNullException.ThrowIfNull(rule);
        _ = Families.ToKernel(rule.Family);
        if ((rule.From is { } from && from.BaseAddress.AddressFamily != rule.Family) ||
            (rule.To is { } to && to.BaseAddress.AddressFamily != rule.Family))
        {
            throw new ArgumentException($"from/to must be of the rule's family {rule.Family}", nameof(rule));
        }

        if (rule.IifName is { } iif)
        {
            NetlinkNames.ValidateInterfaceName(iif, nameof(rule));
        }

        if (rule.OifName is { } oif)
        {
            NetlinkNames.ValidateInterfaceName(oif, nameof(rule));
        }

        Span<byte> buffer = stackalloc byte[RequestBufferSize];
        var length = RuleCodec.Change(buffer, rule, add);
        return ExecuteUnlessMissing(buffer[..length], ignoreMissing ? Errno.ENOENT : null, (rule, add), static s => Describe(s.rule, s.add));
    }

    private static string Describe(Rule rule, bool add)
    {
        var text = new StringBuilder(rule.Family == AddressFamily.InterNetworkV6 ? "ip -6 rule " : "ip rule ");
        text.Append(add ? "add" : "del");
        if (rule.Priority is { } priority)
        {
            text.Append(" priority ").Append(priority);
        }

        if (rule.IifName is { } iif)
        {
            text.Append(" iif ").Append(iif);
        }

        if (rule.OifName is { } oif)
        {
            text.Append(" oif ").Append(oif);
        }

        if (rule.From is { } from)
        {
            text.Append(" from ").Append(from);
        }

        if (rule.To is { } to)
        {
            text.Append(" to ").Append(to);
        }

        if (rule.FwMark is { } mark)
        {
            text.Append(" fwmark 0x").Append(mark.ToString("x", System.Globalization.CultureInfo.InvariantCulture));
            if (rule.FwMask is { } mask)
            {
                text.Append("/0x").Append(mask.ToString("x", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        if (rule.Table is { } table)
        {
            text.Append(" table ").Append(table);
        }

        return text.ToString();
    }
}
