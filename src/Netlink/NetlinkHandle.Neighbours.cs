using System.Net;
using System.Net.Sockets;

namespace BranchEni.Netlink;

public sealed partial class NetlinkHandle
{
    /// <summary>Equivalent to: `ip neigh add ADDRESS lladdr MAC dev IFINDEX nud permanent` (state from the record).</summary>
    public void AddNeighbour(Neighbour neighbour) => throw new NotImplementedException();

    /// <summary>Equivalent to: `ip neigh replace ADDRESS lladdr MAC dev IFINDEX nud permanent`.</summary>
    public void ReplaceNeighbour(Neighbour neighbour) => throw new NotImplementedException();

    /// <summary>Equivalent to: `ip neigh del ADDRESS dev IFINDEX`.</summary>
    public void DeleteNeighbour(int linkIndex, IPAddress address) => throw new NotImplementedException();

    /// <summary>Equivalent to: `ip [-4|-6] neigh show [dev IFINDEX]`; null family lists both.</summary>
    public IReadOnlyList<Neighbour> ListNeighbours(int? linkIndex = null, AddressFamily? family = null) =>
        throw new NotImplementedException();
}
