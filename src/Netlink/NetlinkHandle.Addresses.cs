using System.Net.Sockets;
using BranchEni.Netlink.Protocol;

namespace BranchEni.Netlink;

public sealed partial class NetlinkHandle
{
    /// <summary>Equivalent to: `ip addr add ADDRESS/PREFIX dev IFINDEX scope SCOPE [nodad]`.</summary>
    public void AddAddress(InterfaceAddress address) => ChangeAddress(address, add: true);

    /// <summary>Equivalent to: `ip addr del ADDRESS/PREFIX dev IFINDEX`.</summary>
    public void DeleteAddress(InterfaceAddress address) => ChangeAddress(address, add: false);

    /// <summary>Equivalent to: `ip [-4|-6] addr show [dev IFINDEX]`; null family lists both.</summary>
    public IReadOnlyList<InterfaceAddress> ListAddresses(int? linkIndex = null, AddressFamily? family = null)
    {
        Span<byte> buffer = stackalloc byte[RequestBufferSize];
        var length = AddressCodec.Dump(buffer, family);
        var all = Dump(buffer[..length], "ip addr show", AddressCodec.Parse);
        return linkIndex is { } index ? all.FindAll(a => a.LinkIndex == index) : all;
    }

    private void ChangeAddress(InterfaceAddress address, bool add)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentNullException.ThrowIfNull(address.Address, nameof(address));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(address.LinkIndex, nameof(address));
        var max = address.Address.AddressFamily == AddressFamily.InterNetworkV6 ? 128 : 32;
        if (address.PrefixLength < 0 || address.PrefixLength > max)
        {
            throw new ArgumentOutOfRangeException(nameof(address), address.PrefixLength, $"prefix length must be 0..{max}");
        }

        Span<byte> buffer = stackalloc byte[RequestBufferSize];
        var length = AddressCodec.Change(buffer, address, add);
        Execute(buffer[..length], (address, add), static s =>
            $"ip addr {(s.add ? "add" : "del")} {s.address.Address}/{s.address.PrefixLength} dev {s.address.LinkIndex}");
    }
}
