using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace BranchEni.Sandbox.Ec2.Model;

/// <summary>
/// The free IPv4 addresses of one subnet. AWS reserves the first four addresses (network, router, DNS, future)
/// and the last (broadcast) of every subnet, so those are never handed out.
/// </summary>
internal sealed class AddressPool
{
    private const int ReservedAtStart = 4;
    private readonly uint _network;
    private readonly uint _size;
    private readonly HashSet<uint> _used = [];

    public AddressPool(string cidr)
    {
        (_network, var prefix) = ParseCidr(cidr);
        _size = prefix == 0 ? uint.MaxValue : 1u << (32 - prefix);
        Cidr = $"{ToAddress(_network)}/{prefix}";
        if (_size < 16)
        {
            throw new ArgumentException($"subnet {cidr} is smaller than /28, the smallest subnet EC2 allows");
        }
    }

    public string Cidr { get; }

    /// <summary>Addresses still free, as DescribeSubnets' availableIpAddressCount reports.</summary>
    public long AvailableCount => _size - ReservedAtStart - 1 - _used.Count;

    public bool Contains(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetwork && ToUInt(address) - _network < _size;

    /// <summary>Takes the lowest free address, or null when the subnet is full.</summary>
    public IPAddress? Allocate()
    {
        for (var offset = (uint)ReservedAtStart; offset < _size - 1; offset++)
        {
            if (_used.Add(_network + offset))
            {
                return ToAddress(_network + offset);
            }
        }

        return null;
    }

    /// <summary>Claims a specific address (seeded instances, requested PrivateIpAddress); false if taken or reserved.</summary>
    public bool TryClaim(IPAddress address)
    {
        if (!Contains(address))
        {
            return false;
        }

        var offset = ToUInt(address) - _network;
        return offset >= ReservedAtStart && offset < _size - 1 && _used.Add(ToUInt(address));
    }

    public void Release(IPAddress address) => _used.Remove(ToUInt(address));

    public static (uint Network, int Prefix) ParseCidr(string cidr)
    {
        var slash = cidr.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0
            || !IPAddress.TryParse(cidr.AsSpan(0, slash), out var address)
            || address.AddressFamily != AddressFamily.InterNetwork
            || !int.TryParse(cidr.AsSpan(slash + 1), out var prefix)
            || prefix is < 0 or > 32)
        {
            throw new ArgumentException($"'{cidr}' is not an IPv4 CIDR block");
        }

        var mask = prefix == 0 ? 0u : uint.MaxValue << (32 - prefix);
        return (ToUInt(address) & mask, prefix);
    }

    private static uint ToUInt(IPAddress address) => BinaryPrimitives.ReadUInt32BigEndian(address.GetAddressBytes());

    private static IPAddress ToAddress(uint value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return new IPAddress(bytes);
    }
}
