using System.Net;
using System.Net.Sockets;
using BranchEni.Netlink.Interop;

namespace BranchEni.Netlink.Protocol;

/// <summary>RTM_*ADDR requests and answers, attribute order as iproute2 6.1 sends them.</summary>
internal static class AddressCodec
{
    /// <summary>ip addr add|del ADDRESS/PREFIX dev IFINDEX [scope S] [nodad]: IFA_LOCAL then IFA_ADDRESS.</summary>
    public static int Change(Span<byte> buffer, InterfaceAddress address, bool add)
    {
        var w = new NetlinkWriter(buffer);
        var flags = add ? NlmFlags.Request | NlmFlags.Ack | NlmFlags.Create | NlmFlags.Excl : NlmFlags.Request | NlmFlags.Ack;
        var msg = w.BeginMessage(add ? RtmType.NewAddr : RtmType.DelAddr, flags);
        w.Write(new IfAddrMsg
        {
            Family = Families.Of(address.Address),
            PrefixLength = (byte)address.PrefixLength,
            Flags = address.NoDad ? Ifa.FNoDad : (byte)0,
            Scope = (byte)address.Scope,
            Index = (uint)address.LinkIndex,
        });
        w.WriteAddress(Ifa.Local, address.Address);
        w.WriteAddress(Ifa.Address, address.Address);
        w.EndMessage(msg);
        return w.Length;
    }

    /// <summary>ip addr show: a dump of every family (filtered after).</summary>
    public static int Dump(Span<byte> buffer, AddressFamily? family)
    {
        var w = new NetlinkWriter(buffer);
        var msg = w.BeginMessage(RtmType.GetAddr, NlmFlags.Request | NlmFlags.Dump);
        w.Write(new IfAddrMsg { Family = family is { } f ? Families.ToKernel(f) : Af.Unspec });
        w.EndMessage(msg);
        return w.Length;
    }

    /// <summary>Reads one RTM_NEWADDR; IFA_LOCAL wins over IFA_ADDRESS (they differ only on point-to-point).</summary>
    public static InterfaceAddress? Parse(in NetlinkMessage message)
    {
        if (message.Type != (ushort)RtmType.NewAddr)
        {
            return null;
        }

        var header = message.ReadHeader<IfAddrMsg>();
        IPAddress? local = null, address = null;
        uint? extendedFlags = null;
        var attributes = message.Attributes<IfAddrMsg>();
        while (attributes.TryRead(out var a))
        {
            switch (a.Type)
            {
                case Ifa.Local: local = a.AsAddress(); break;
                case Ifa.Address: address = a.AsAddress(); break;
                case Ifa.Flags: extendedFlags = a.AsUInt32(); break;
            }
        }

        var chosen = local ?? address;
        if (chosen is null)
        {
            return null;
        }

        return new InterfaceAddress
        {
            LinkIndex = (int)header.Index,
            Address = chosen,
            PrefixLength = header.PrefixLength,
            Scope = (Scope)header.Scope,
            NoDad = ((extendedFlags ?? header.Flags) & Ifa.FNoDad) != 0,
        };
    }
}

/// <summary>Address family conversions between .NET and the kernel (AF_INET = 2, AF_INET6 = 10 on Linux).</summary>
internal static class Families
{
    public static byte Of(IPAddress address) => address.AddressFamily switch
    {
        AddressFamily.InterNetwork => Af.Inet,
        AddressFamily.InterNetworkV6 => Af.Inet6,
        _ => throw new ArgumentException($"{address} is neither IPv4 nor IPv6", nameof(address)),
    };

    public static byte ToKernel(AddressFamily family) => family switch
    {
        AddressFamily.InterNetwork => Af.Inet,
        AddressFamily.InterNetworkV6 => Af.Inet6,
        _ => throw new ArgumentException($"address family {family} is neither IPv4 nor IPv6", nameof(family)),
    };

    public static AddressFamily FromKernel(byte family) =>
        family == Af.Inet6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork;

    public static IPAddress Any(AddressFamily family) =>
        family == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any;
}
