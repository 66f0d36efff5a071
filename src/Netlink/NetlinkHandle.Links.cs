using System.Net.NetworkInformation;
using System.Runtime.CompilerServices;
using BranchEni.Netlink.Protocol;

namespace BranchEni.Netlink;

public sealed partial class NetlinkHandle
{
    /// <summary>Equivalent to: `ip -d link show dev NAME`. Throws NetlinkException (ENODEV) when absent.</summary>
    public Link GetLink(string name) =>
        TryGetLink(name) ?? throw new NetlinkException(Errno.ENODEV, $"ip -d link show dev {name}");

    /// <summary>Equivalent to: `ip -d link show dev NAME`; null when absent.</summary>
    public Link? TryGetLink(string name)
    {
        NetlinkNames.ValidateInterfaceName(name, nameof(name));
        Span<byte> buffer = stackalloc byte[RequestBufferSize];
        var length = LinkCodec.Get(buffer, 0, name);
        return QueryLink(buffer[..length], $"ip -d link show dev {name}");
    }

    /// <summary>Equivalent to: `ip -d link show` filtered on the index. Throws NetlinkException (ENODEV) when absent.</summary>
    public Link GetLink(int index) =>
        TryGetLink(index) ?? throw new NetlinkException(Errno.ENODEV, $"ip -d link show dev {index}");

    /// <summary>Like <see cref="GetLink(int)"/>; null when absent.</summary>
    public Link? TryGetLink(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(index);
        Span<byte> buffer = stackalloc byte[RequestBufferSize];
        var length = LinkCodec.Get(buffer, index, null);
        return QueryLink(buffer[..length], $"ip -d link show dev {index}");
    }

    /// <summary>The first link whose MAC equals <paramref name="mac"/>, or null.
    /// Equivalent to: `ip -d link show` filtered on "link/ether MAC".</summary>
    public Link? FindLinkByMac(PhysicalAddress mac)
    {
        ArgumentNullException.ThrowIfNull(mac);
        return ListLinks().FirstOrDefault(link => mac.Equals(link.Mac));
    }

    /// <summary>Equivalent to: `ip -d link show`.</summary>
    public IReadOnlyList<Link> ListLinks()
    {
        Span<byte> buffer = stackalloc byte[RequestBufferSize];
        var length = LinkCodec.Dump(buffer);
        return Dump(buffer[..length], "ip -d link show", LinkCodec.Parse);
    }

    /// <summary>Creates a veth pair, the peer directly in <see cref="VethPairSpec.PeerNamespace"/> when given.
    /// Equivalent to: `ip link add NAME mtu M address MAC type veth peer name PEER mtu M address PMAC netns NS`.</summary>
    public void AddVethPair(VethPairSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        NetlinkNames.ValidateInterfaceName(spec.Name, nameof(spec));
        NetlinkNames.ValidateInterfaceName(spec.PeerName, nameof(spec));
        ValidateMtu(spec.Mtu);
        using var hold = new NamespaceFd(spec.PeerNamespace);
        Span<byte> buffer = stackalloc byte[RequestBufferSize];
        var length = LinkCodec.AddVeth(buffer, spec, hold.Fd);
        Execute(buffer[..length], spec, static s =>
            $"ip link add {s.Name} type veth peer name {s.PeerName}{(s.PeerNamespace is { } ns ? " netns " + ns.Path : "")}");
    }

    /// <summary>Creates an 802.1Q link on a parent, directly in <see cref="VlanSpec.Namespace"/> when given.
    /// Equivalent to: `ip link add link PARENT name NAME address MAC mtu M netns NS type vlan id N`.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The VLAN id is outside 1..4094 (the kernel is not asked).</exception>
    public void AddVlan(VlanSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        NetlinkNames.ValidateInterfaceName(spec.Name, nameof(spec));
        // 0 means "priority tag only" and 4095 is reserved (IEEE 802.1Q); the kernel would take neither as a link.
        if (spec.VlanId is < 1 or > 4094)
        {
            throw new ArgumentOutOfRangeException(nameof(spec), spec.VlanId, "VLAN id must be 1..4094");
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(spec.ParentIndex, nameof(spec));
        ValidateMtu(spec.Mtu);
        using var hold = new NamespaceFd(spec.Namespace);
        Span<byte> buffer = stackalloc byte[RequestBufferSize];
        var length = LinkCodec.AddVlan(buffer, spec, hold.Fd);
        Execute(buffer[..length], spec, static s =>
            $"ip link add link {s.ParentIndex} name {s.Name}{(s.Namespace is { } ns ? " netns " + ns.Path : "")} type vlan id {s.VlanId}");
    }

    /// <summary>Equivalent to: `ip link set dev IFINDEX up`.</summary>
    public void SetLinkUp(int index) => SetUp(index, up: true);

    /// <summary>Equivalent to: `ip link set dev IFINDEX down`.</summary>
    public void SetLinkDown(int index) => SetUp(index, up: false);

    /// <summary>Equivalent to: `ip link set dev IFINDEX mtu MTU`.</summary>
    public void SetLinkMtu(int index, int mtu)
    {
        ValidateMtu(mtu);
        SetLink(index, new LinkChange(Mtu: mtu), $"mtu {mtu}");
    }

    /// <summary>Equivalent to: `ip link set dev IFINDEX address MAC`.</summary>
    public void SetLinkMac(int index, PhysicalAddress mac)
    {
        ArgumentNullException.ThrowIfNull(mac);
        SetLink(index, new LinkChange(Mac: mac), $"address {mac}");
    }

    /// <summary>Equivalent to: `ip link set dev IFINDEX name NAME` (the link must be down for most kinds).</summary>
    public void SetLinkName(int index, string name)
    {
        NetlinkNames.ValidateInterfaceName(name, nameof(name));
        SetLink(index, new LinkChange(Name: name), $"name {name}");
    }

    /// <summary>Moves the link into another namespace. Equivalent to: `ip link set dev IFINDEX netns NS`.</summary>
    public void SetLinkNamespace(int index, NetworkNamespace target)
    {
        ArgumentNullException.ThrowIfNull(target);
        using var hold = new NamespaceFd(target);
        SetLink(index, new LinkChange(NamespaceFd: hold.Fd), $"netns {target.Path}");
    }

    /// <summary>Equivalent to: `ip link set dev IFINDEX alias ALIAS` (an empty alias removes it).</summary>
    public void SetLinkAlias(int index, string alias)
    {
        NetlinkNames.ValidateAlias(alias, nameof(alias));
        SetLink(index, new LinkChange(Alias: alias), $"alias {alias}");
    }

    /// <summary>Equivalent to: `ip link del dev IFINDEX`. Throws NetlinkException (ENODEV) when absent.</summary>
    public void DeleteLink(int index) => DeleteLinkCore(index, null, ignoreMissing: false);

    /// <summary>Equivalent to: `ip link del dev NAME`. Throws NetlinkException (ENODEV) when absent.</summary>
    public void DeleteLink(string name)
    {
        NetlinkNames.ValidateInterfaceName(name, nameof(name));
        DeleteLinkCore(0, name, ignoreMissing: false);
    }

    /// <summary>Equivalent to: `ip link del dev NAME`, where "no such device" is success; false if it was absent.</summary>
    public bool DeleteLinkIfExists(string name)
    {
        NetlinkNames.ValidateInterfaceName(name, nameof(name));
        return DeleteLinkCore(0, name, ignoreMissing: true);
    }

    /// <summary>Equivalent to: `ip link del dev IFINDEX`, where "no such device" is success; false if it was absent.</summary>
    public bool DeleteLinkIfExists(int index) => DeleteLinkCore(index, null, ignoreMissing: true);

    private bool DeleteLinkCore(int index, string? name, bool ignoreMissing)
    {
        if (name is null)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(index);
        }

        Span<byte> buffer = stackalloc byte[RequestBufferSize];
        var length = LinkCodec.Delete(buffer, index, name);
        return ExecuteUnlessMissing(buffer[..length], ignoreMissing ? Errno.ENODEV : null, (index, name),
            static s => $"ip link del dev {s.name ?? s.index.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
    }

    private void SetUp(int index, bool up)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(index);
        Span<byte> buffer = stackalloc byte[RequestBufferSize];
        var length = LinkCodec.SetUp(buffer, index, up);
        Execute(buffer[..length], (index, up), static s => $"ip link set dev {s.index} {(s.up ? "up" : "down")}");
    }

    private void SetLink(int index, in LinkChange change, string what)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(index);
        Span<byte> buffer = stackalloc byte[RequestBufferSize];
        var length = LinkCodec.Set(buffer, index, change);
        Execute(buffer[..length], (index, what), static s => $"ip link set dev {s.index} {s.what}");
    }

    private Link? QueryLink(Span<byte> request, string operation)
    {
        var found = new StrongBox<Link?>();
        var errno = _socket.Query(
            request,
            found,
            static (in NetlinkMessage message, StrongBox<Link?> box) => box.Value = LinkCodec.Parse(in message),
            out var ack);
        return errno switch
        {
            0 => found.Value,
            Errno.ENODEV => null,
            _ => throw new NetlinkException(errno, operation, ack),
        };
    }

    private static void ValidateMtu(int? mtu)
    {
        // 68 is the IPv4 minimum (RFC 791); the kernel checks the device's own limits beyond that.
        if (mtu is < 68 or > 65535)
        {
            throw new ArgumentOutOfRangeException(nameof(mtu), mtu, "MTU must be 68..65535");
        }
    }

    /// <summary>Keeps a namespace's descriptor alive while its number sits in a request.</summary>
    private readonly ref struct NamespaceFd
    {
        private readonly NetworkNamespace? _ns;

        public NamespaceFd(NetworkNamespace? ns)
        {
            _ns = ns;
            if (ns is not null)
            {
                var added = false;
                ns.Handle.DangerousAddRef(ref added);
                Fd = ns.Fd;
            }
        }

        public int? Fd { get; }

        public void Dispose() => _ns?.Handle.DangerousRelease();
    }
}
