using System.Net;
using System.Net.Sockets;
using BranchEni.Netlink.Interop;

namespace BranchEni.Netlink.Protocol;

/// <summary>Whether a neighbour request adds, replaces or deletes.</summary>
internal enum NeighbourVerb
{
    Add,
    Replace,
    Delete,
}

/// <summary>RTM_*NEIGH requests and answers, attribute order as iproute2 6.1 sends them.</summary>
internal static class NeighbourCodec
{
    /// <summary>ip neigh add|replace|del ADDRESS [lladdr MAC] dev IFINDEX [nud STATE].</summary>
    public static int Change(Span<byte> buffer, int linkIndex, IPAddress address, System.Net.NetworkInformation.PhysicalAddress? mac,
        NeighbourState state, NeighbourVerb verb)
    {
        var w = new NetlinkWriter(buffer);
        var flags = verb switch
        {
            NeighbourVerb.Add => NlmFlags.Request | NlmFlags.Ack | NlmFlags.Create | NlmFlags.Excl,
            NeighbourVerb.Replace => NlmFlags.Request | NlmFlags.Ack | NlmFlags.Create | NlmFlags.Replace,
            _ => NlmFlags.Request | NlmFlags.Ack,
        };
        var msg = w.BeginMessage(verb == NeighbourVerb.Delete ? RtmType.DelNeigh : RtmType.NewNeigh, flags);
        w.Write(new NdMsg { Family = Families.Of(address), Index = linkIndex, State = (ushort)state });
        w.WriteAddress(Nda.Dst, address);
        if (mac is not null)
        {
            w.WriteMac(Nda.LlAddr, mac);
        }

        w.EndMessage(msg);
        return w.Length;
    }

    /// <summary>ip neigh show: a dump.</summary>
    public static int Dump(Span<byte> buffer, AddressFamily? family)
    {
        var w = new NetlinkWriter(buffer);
        var msg = w.BeginMessage(RtmType.GetNeigh, NlmFlags.Request | NlmFlags.Dump);
        w.Write(new NdMsg { Family = family is { } f ? Families.ToKernel(f) : Af.Unspec });
        w.EndMessage(msg);
        return w.Length;
    }

    /// <summary>Reads one RTM_NEWNEIGH; entries of other families (bridge fdb) are skipped.</summary>
    public static Neighbour? Parse(in NetlinkMessage message)
    {
        if (message.Type != (ushort)RtmType.NewNeigh)
        {
            return null;
        }

        var header = message.ReadHeader<NdMsg>();
        if (header.Family is not (Af.Inet or Af.Inet6))
        {
            return null;
        }

        IPAddress? address = null;
        System.Net.NetworkInformation.PhysicalAddress? mac = null;
        var attributes = message.Attributes<NdMsg>();
        while (attributes.TryRead(out var a))
        {
            switch (a.Type)
            {
                case Nda.Dst: address = a.AsAddress(); break;
                case Nda.LlAddr: mac = a.AsMac(); break;
            }
        }

        return address is null
            ? null
            : new Neighbour { LinkIndex = header.Index, Address = address, Mac = mac, State = (NeighbourState)header.State };
    }
}
