using System.Net;
using BranchEni.Netlink.Interop;

namespace BranchEni.Netlink.Protocol;

/// <summary>RTM_*RULE requests and answers, attribute order as iproute2 6.1 sends them.</summary>
internal static class RuleCodec
{
    /// <summary>ip rule add|del [priority] [iif] [oif] [from] [to] [fwmark M/K] [table].</summary>
    public static int Change(Span<byte> buffer, Rule rule, bool add)
    {
        var w = new NetlinkWriter(buffer);
        var flags = add ? NlmFlags.Request | NlmFlags.Ack | NlmFlags.Create | NlmFlags.Excl : NlmFlags.Request | NlmFlags.Ack;
        var msg = w.BeginMessage(add ? RtmType.NewRule : RtmType.DelRule, flags);
        var table = rule.Table ?? (add && rule.Action == RuleAction.ToTable ? RouteTables.Main : 0);
        w.Write(new FibRuleHdr
        {
            Family = Families.ToKernel(rule.Family),
            SrcLength = (byte)(rule.From?.PrefixLength ?? 0),
            DstLength = (byte)(rule.To?.PrefixLength ?? 0),
            Table = table < 256 ? (byte)table : (byte)0,
            // A delete with the default action leaves it open (0 matches any), as `ip rule del` does.
            Action = !add && rule.Action == RuleAction.ToTable ? (byte)0 : (byte)rule.Action,
        });
        if (rule.Priority is { } priority)
        {
            w.WriteUInt32(Fra.Priority, priority);
        }

        if (rule.IifName is { } iif)
        {
            w.WriteString(Fra.IifName, iif);
        }

        if (rule.OifName is { } oif)
        {
            w.WriteString(Fra.OifName, oif);
        }

        if (rule.From is { } from)
        {
            w.WriteAddress(Fra.Src, from.BaseAddress);
        }

        if (rule.To is { } to)
        {
            w.WriteAddress(Fra.Dst, to.BaseAddress);
        }

        if (rule.FwMark is { } mark)
        {
            w.WriteUInt32(Fra.FwMark, mark);
        }

        if (rule.FwMask is { } mask)
        {
            w.WriteUInt32(Fra.FwMask, mask);
        }

        if (table >= 256)
        {
            w.WriteUInt32(Fra.Table, table);
        }

        w.EndMessage(msg);
        return w.Length;
    }

    /// <summary>ip [-6] rule show: a dump of one family.</summary>
    public static int Dump(Span<byte> buffer, System.Net.Sockets.AddressFamily family)
    {
        var w = new NetlinkWriter(buffer);
        var msg = w.BeginMessage(RtmType.GetRule, NlmFlags.Request | NlmFlags.Dump);
        w.Write(new FibRuleHdr { Family = Families.ToKernel(family) });
        w.EndMessage(msg);
        return w.Length;
    }

    /// <summary>Reads one RTM_NEWRULE.</summary>
    public static Rule? Parse(in NetlinkMessage message)
    {
        if (message.Type != (ushort)RtmType.NewRule)
        {
            return null;
        }

        var header = message.ReadHeader<FibRuleHdr>();
        // The kernel leaves FRA_PRIORITY out when it is 0 (the local rule), so a listed rule starts at 0.
        var rule = new Rule { Family = Families.FromKernel(header.Family), Action = (RuleAction)header.Action, Priority = 0 };
        uint table = header.Table;
        var attributes = message.Attributes<FibRuleHdr>();
        while (attributes.TryRead(out var a))
        {
            rule = a.Type switch
            {
                Fra.Priority => rule with { Priority = a.AsUInt32() },
                Fra.IifName => rule with { IifName = a.AsString() },
                Fra.OifName => rule with { OifName = a.AsString() },
                Fra.Src => rule with { From = Networks.Create(a.AsAddress(), header.SrcLength) },
                Fra.Dst => rule with { To = Networks.Create(a.AsAddress(), header.DstLength) },
                Fra.FwMark => rule with { FwMark = a.AsUInt32() },
                Fra.FwMask => rule with { FwMask = a.AsUInt32() },
                _ => rule,
            };
            if (a.Type == Fra.Table)
            {
                table = a.AsUInt32();
            }
        }

        return rule with { Table = table == 0 ? null : table };
    }
}
