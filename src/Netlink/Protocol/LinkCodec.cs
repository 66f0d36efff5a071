using BranchEni.Netlink.Interop;

namespace BranchEni.Netlink.Protocol;

/// <summary>
/// RTM_*LINK requests and answers. Attribute order mirrors what iproute2 6.1 sends for the same command, so the
/// golden tests can compare bytes (tests/Netlink.Tests/Golden).
/// </summary>
internal static class LinkCodec
{
    private const NlmFlags CreateFlags = NlmFlags.Request | NlmFlags.Ack | NlmFlags.Create | NlmFlags.Excl;
    private const NlmFlags ChangeFlags = NlmFlags.Request | NlmFlags.Ack;

    // `ip -d link show` asks for VF info and, for a single link, no statistics.
    private const uint SingleLinkExtMask = RtExtFilter.Vf | RtExtFilter.SkipStats;

    /// <summary>ip link add NAME [mtu] [address] type veth peer name PEER [mtu] [address] [netns].</summary>
    public static int AddVeth(Span<byte> buffer, VethPairSpec spec, int? peerNamespaceFd)
    {
        var w = new NetlinkWriter(buffer);
        var msg = w.BeginMessage(RtmType.NewLink, CreateFlags);
        w.Write(new IfInfoMsg());
        WriteMtuAndMac(ref w, spec.Mtu, spec.Mac);
        w.WriteString(Ifla.IfName, spec.Name);
        var info = w.BeginNested(Ifla.LinkInfo);
        w.WriteUnterminatedString(IflaInfo.Kind, "veth");
        var data = w.BeginNested(IflaInfo.Data);
        var peer = w.BeginNested(VethInfo.Peer);
        w.Write(new IfInfoMsg());
        WriteMtuAndMac(ref w, spec.Mtu, spec.PeerMac);
        if (peerNamespaceFd is { } fd)
        {
            w.WriteInt32(Ifla.NetNsFd, fd);
        }

        w.WriteString(Ifla.IfName, spec.PeerName);
        w.EndNested(peer);
        w.EndNested(data);
        w.EndNested(info);
        w.EndMessage(msg);
        return w.Length;
    }

    /// <summary>ip link add link PARENT name NAME [address] [mtu] [netns] type vlan id N.</summary>
    public static int AddVlan(Span<byte> buffer, VlanSpec spec, int? namespaceFd)
    {
        var w = new NetlinkWriter(buffer);
        var msg = w.BeginMessage(RtmType.NewLink, CreateFlags);
        w.Write(new IfInfoMsg());
        if (spec.Mac is { } mac)
        {
            w.WriteMac(Ifla.Address, mac);
        }

        if (spec.Mtu is { } mtu)
        {
            w.WriteInt32(Ifla.Mtu, mtu);
        }

        if (namespaceFd is { } fd)
        {
            w.WriteInt32(Ifla.NetNsFd, fd);
        }

        w.WriteInt32(Ifla.Link, spec.ParentIndex);
        w.WriteString(Ifla.IfName, spec.Name);
        var info = w.BeginNested(Ifla.LinkInfo);
        w.WriteUnterminatedString(IflaInfo.Kind, "vlan");
        var data = w.BeginNested(IflaInfo.Data);
        w.WriteUInt16(IflaVlan.Id, (ushort)spec.VlanId);
        w.EndNested(data);
        w.EndNested(info);
        w.EndMessage(msg);
        return w.Length;
    }

    /// <summary>ip link set dev IFINDEX up|down: only IFF_UP changes.</summary>
    public static int SetUp(Span<byte> buffer, int index, bool up)
    {
        var w = new NetlinkWriter(buffer);
        var msg = w.BeginMessage(RtmType.NewLink, ChangeFlags);
        w.Write(new IfInfoMsg { Index = index, Flags = up ? (uint)LinkFlags.Up : 0, Change = (uint)LinkFlags.Up });
        w.EndMessage(msg);
        return w.Length;
    }

    /// <summary>ip link set dev IFINDEX mtu|address|name|alias|netns: one attribute on an RTM_NEWLINK.</summary>
    public static int Set(Span<byte> buffer, int index, in LinkChange change)
    {
        var w = new NetlinkWriter(buffer);
        var msg = w.BeginMessage(RtmType.NewLink, ChangeFlags);
        w.Write(new IfInfoMsg { Index = index });
        if (change.Mtu is { } mtu)
        {
            w.WriteInt32(Ifla.Mtu, mtu);
        }

        if (change.Mac is { } mac)
        {
            w.WriteMac(Ifla.Address, mac);
        }

        if (change.Name is { } name)
        {
            w.WriteString(Ifla.IfName, name);
        }

        if (change.NamespaceFd is { } fd)
        {
            w.WriteInt32(Ifla.NetNsFd, fd);
        }

        if (change.Alias is { } alias)
        {
            // An empty alias removes it.
            w.WriteUnterminatedString(Ifla.IfAlias, alias);
        }

        w.EndMessage(msg);
        return w.Length;
    }

    /// <summary>ip link del dev IFINDEX, or by name when <paramref name="index"/> is 0.</summary>
    public static int Delete(Span<byte> buffer, int index, string? name)
    {
        var w = new NetlinkWriter(buffer);
        var msg = w.BeginMessage(RtmType.DelLink, ChangeFlags);
        w.Write(new IfInfoMsg { Index = index });
        if (name is not null)
        {
            w.WriteString(Ifla.IfName, name);
        }

        w.EndMessage(msg);
        return w.Length;
    }

    /// <summary>ip -d link show dev NAME|IFINDEX: one RTM_GETLINK answered by one RTM_NEWLINK (no ACK asked).</summary>
    public static int Get(Span<byte> buffer, int index, string? name)
    {
        var w = new NetlinkWriter(buffer);
        var msg = w.BeginMessage(RtmType.GetLink, NlmFlags.Request);
        w.Write(new IfInfoMsg { Index = index });
        w.WriteUInt32(Ifla.ExtMask, SingleLinkExtMask);
        if (name is not null)
        {
            w.WriteString(Ifla.IfName, name);
        }

        w.EndMessage(msg);
        return w.Length;
    }

    /// <summary>ip -d link show: a dump. iproute2 puts AF_PACKET in the family.</summary>
    public static int Dump(Span<byte> buffer)
    {
        var w = new NetlinkWriter(buffer);
        var msg = w.BeginMessage(RtmType.GetLink, NlmFlags.Request | NlmFlags.Dump);
        w.Write(new IfInfoMsg { Family = Af.Packet });
        w.WriteUInt32(Ifla.ExtMask, RtExtFilter.Vf);
        w.EndMessage(msg);
        return w.Length;
    }

    private static void WriteMtuAndMac(ref NetlinkWriter w, int? mtu, System.Net.NetworkInformation.PhysicalAddress? mac)
    {
        if (mtu is { } value)
        {
            w.WriteInt32(Ifla.Mtu, value);
        }

        if (mac is not null)
        {
            w.WriteMac(Ifla.Address, mac);
        }
    }

    /// <summary>Reads one RTM_NEWLINK into a <see cref="Link"/>; null when it is not a link message.</summary>
    public static Link? Parse(in NetlinkMessage message)
    {
        if (message.Type != (ushort)RtmType.NewLink)
        {
            return null;
        }

        var header = message.ReadHeader<IfInfoMsg>();
        string? name = null, kind = null, alias = null;
        System.Net.NetworkInformation.PhysicalAddress? mac = null;
        int mtu = 0;
        int? parent = null, master = null, vlanId = null;
        var attributes = message.Attributes<IfInfoMsg>();
        while (attributes.TryRead(out var a))
        {
            switch (a.Type)
            {
                case Ifla.IfName: name = a.AsString(); break;
                case Ifla.Address: mac = a.AsMac(); break;
                case Ifla.Mtu: mtu = a.AsInt32(); break;
                case Ifla.Link: parent = a.AsInt32(); break;
                case Ifla.Master: master = a.AsInt32(); break;
                case Ifla.IfAlias: alias = a.AsString(); break;
                case Ifla.LinkInfo: ParseLinkInfo(a.Nested(), ref kind, ref vlanId); break;
            }
        }

        return new Link
        {
            Index = header.Index,
            Name = name ?? Malformed.Throw<string>(Ifla.IfName, 1, 0),
            Mac = mac,
            Mtu = mtu,
            Flags = (LinkFlags)header.Flags,
            Kind = kind,
            VlanId = vlanId,
            ParentIndex = parent,
            Alias = alias is { Length: > 0 } ? alias : null,
            MasterIndex = master,
        };
    }

    private static void ParseLinkInfo(AttributeReader info, ref string? kind, ref int? vlanId)
    {
        while (info.TryRead(out var a))
        {
            if (a.Type == IflaInfo.Kind)
            {
                kind = a.AsString();
            }
            else if (a.Type == IflaInfo.Data && kind == "vlan")
            {
                var data = a.Nested();
                while (data.TryRead(out var d))
                {
                    if (d.Type == IflaVlan.Id)
                    {
                        vlanId = d.AsUInt16();
                    }
                }
            }
        }
    }
}

/// <summary>What one `ip link set` changes; exactly one member is set.</summary>
internal readonly record struct LinkChange(
    int? Mtu = null, System.Net.NetworkInformation.PhysicalAddress? Mac = null, string? Name = null,
    int? NamespaceFd = null, string? Alias = null);
