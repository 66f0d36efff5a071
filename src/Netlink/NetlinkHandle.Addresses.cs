using System.Net.Sockets;

namespace BranchEni.Netlink;

public sealed partial class NetlinkHandle
{
    /// <summary>Equivalent to: `ip addr add ADDRESS/PREFIX dev IFINDEX scope SCOPE [nodad]`.</summary>
    public void AddAddress(InterfaceAddress address) => throw new NotImplementedException();

    /// <summary>Equivalent to: `ip addr del ADDRESS/PREFIX dev IFINDEX`.</summary>
    public void DeleteAddress(InterfaceAddress address) => throw new NotImplementedException();

    /// <summary>Equivalent to: `ip [-4|-6] addr show [dev IFINDEX]`; null family lists both.</summary>
    public IReadOnlyList<InterfaceAddress> ListAddresses(int? linkIndex = null, AddressFamily? family = null) =>
        throw new NotImplementedException();
}
