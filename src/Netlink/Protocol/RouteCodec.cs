using System.Net;
using System.Net.Sockets;
using BranchEni.Netlink.Interop;

namespace BranchEni.Netlink.Protocol;

/// <summary>Whether a route request adds, replaces or deletes.</summary>
internal enum RouteVerb
{
    Add,
    Replace,
    Delete,
}

/// <summary>RTM_*ROUTE requests and answers, attribute order as iproute2 6.1 sends them.</summary>
internal static class RouteCodec
{
    /// <summary>ip route add|replace|del DEST [via] [src] [proto] [metric] [onlink] [table] [dev] [scope].</summary>
    public static int Change(Span<byte> buffer, Route route, RouteVerb verb)
    {
        var w = new NetlinkWriter(buffer);
        var flags = verb switch
        {
            RouteVerb.Add => NlmFlags.Request | NlmFlags.Ack | NlmFlags.Create | NlmFlags.Excl,
            RouteVerb.Replace => NlmFlags.Request | NlmFlags.Ack | NlmFlags.Create | NlmFlags.Replace,
            _ => NlmFlags.Request | NlmFlags.Ack,
        };
        var msg = w.BeginMessage(verb == RouteVerb.Delete ? RtmType.DelRoute : RtmType.NewRoute, flags);
        var table = route.Table ?? RouteTables.Main;
        var delete = verb == RouteVerb.Delete;
        w.Write(new RtMsg
        {
            Family = Families.Of(route.Destination.BaseAddress),
            DstLength = (byte)route.Destination.PrefixLength,
            // Table ids above 255 do not fit rtm_table: RT_TABLE_UNSPEC there and RTA_TABLE below, as iproute2 does.
            Table = table < 256 ? (byte)table : (byte)0,
            // Like iproute2, a delete leaves protocol, scope and type open (0 / nowhere / 0 match anything).
            Protocol = (byte)(route.Protocol ?? (delete ? RouteProtocol.Unspecified : RouteProtocol.Boot)),
            // iproute2 defaults only a unicast route without a gateway to scope link; unreachable, blackhole and the
            // other device-less types stay universe.
            Scope = (byte)(route.Scope ?? (delete ? Scope.Nowhere
                : route.Gateway is null && route.Type == RouteType.Unicast ? Scope.Link : Scope.Universe)),
            Type = delete && route.Type == RouteType.Unicast ? (byte)0 : (byte)route.Type,
            Flags = route.OnLink ? Rta.FOnLink : 0,
        });
        if (route.Destination.PrefixLength > 0)
        {
            w.WriteAddress(Rta.Dst, route.Destination.BaseAddress);
        }

        if (route.Gateway is { } gateway)
        {
            w.WriteAddress(Rta.Gateway, gateway);
        }

        if (route.Source is { } source)
        {
            w.WriteAddress(Rta.PrefSrc, source);
        }

        if (route.Metric is { } metric)
        {
            w.WriteUInt32(Rta.Priority, metric);
        }

        if (table >= 256)
        {
            w.WriteUInt32(Rta.Table, table);
        }

        if (route.OutputIndex is { } oif)
        {
            w.WriteInt32(Rta.Oif, oif);
        }

        w.EndMessage(msg);
        return w.Length;
    }

    /// <summary>ip -4|-6 route show table all: a dump, filtered by table afterwards.</summary>
    public static int Dump(Span<byte> buffer, AddressFamily family)
    {
        var w = new NetlinkWriter(buffer);
        var msg = w.BeginMessage(RtmType.GetRoute, NlmFlags.Request | NlmFlags.Dump);
        w.Write(new RtMsg { Family = Families.ToKernel(family) });
        w.EndMessage(msg);
        return w.Length;
    }

    /// <summary>Reads one RTM_NEWROUTE.</summary>
    public static Route? Parse(in NetlinkMessage message)
    {
        if (message.Type != (ushort)RtmType.NewRoute)
        {
            return null;
        }

        var header = message.ReadHeader<RtMsg>();
        var family = Families.FromKernel(header.Family);
        IPAddress? destination = null, gateway = null, source = null;
        uint table = header.Table;
        uint? metric = null;
        int? oif = null;
        var attributes = message.Attributes<RtMsg>();
        while (attributes.TryRead(out var a))
        {
            switch (a.Type)
            {
                case Rta.Dst: destination = a.AsAddress(); break;
                case Rta.Gateway: gateway = a.AsAddress(); break;
                case Rta.PrefSrc: source = a.AsAddress(); break;
                case Rta.Priority: metric = a.AsUInt32(); break;
                case Rta.Table: table = a.AsUInt32(); break;
                case Rta.Oif: oif = a.AsInt32(); break;
            }
        }

        return new Route
        {
            Destination = Networks.Create(destination ?? Families.Any(family), header.DstLength),
            Table = table,
            Scope = (Scope)header.Scope,
            Gateway = gateway,
            OutputIndex = oif,
            Source = source,
            Protocol = (RouteProtocol)header.Protocol,
            OnLink = (header.Flags & Rta.FOnLink) != 0,
            Metric = metric,
            Type = (RouteType)header.Type,
        };
    }
}

/// <summary>Builds IPNetwork values from kernel answers, which may carry host bits or lengths out of range.</summary>
internal static class Networks
{
    public static IPNetwork Create(IPAddress address, int prefixLength)
    {
        var max = address.AddressFamily == AddressFamily.InterNetworkV6 ? 128 : 32;
        if (prefixLength > max)
        {
            Malformed.Throw($"prefix length {prefixLength} for {address}");
        }

        // IPNetwork refuses host bits; kernel answers have none for routes and rules, but never trust that.
        return Mask(address, prefixLength);
    }

    private static IPNetwork Mask(IPAddress address, int prefixLength)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out var length);
        bytes = bytes[..length];
        for (var bit = prefixLength; bit < length * 8; bit++)
        {
            bytes[bit / 8] &= (byte)~(0x80 >> (bit % 8));
        }

        return new IPNetwork(new IPAddress(bytes), prefixLength);
    }
}
