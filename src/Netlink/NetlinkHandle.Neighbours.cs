using System.Net;
using System.Net.Sockets;
using BranchEni.Netlink.Protocol;

namespace BranchEni.Netlink;

public sealed partial class NetlinkHandle
{
    /// <summary>Equivalent to: `ip neigh add ADDRESS lladdr MAC dev IFINDEX nud permanent` (state from the record).</summary>
    public void AddNeighbour(Neighbour neighbour) => ChangeNeighbour(neighbour, NeighbourVerb.Add);

    /// <summary>Equivalent to: `ip neigh replace ADDRESS lladdr MAC dev IFINDEX nud permanent`.</summary>
    public void ReplaceNeighbour(Neighbour neighbour) => ChangeNeighbour(neighbour, NeighbourVerb.Replace);

    /// <summary>Equivalent to: `ip neigh del ADDRESS dev IFINDEX`.</summary>
    public void DeleteNeighbour(int linkIndex, IPAddress address) =>
        ChangeNeighbour(new Neighbour { LinkIndex = linkIndex, Address = address }, NeighbourVerb.Delete);

    /// <summary>Equivalent to: `ip [-4|-6] neigh show [dev IFINDEX]`; null family lists both.</summary>
    public IReadOnlyList<Neighbour> ListNeighbours(int? linkIndex = null, AddressFamily? family = null)
    {
        Span<byte> buffer = stackalloc byte[RequestBufferSize];
        var length = NeighbourCodec.Dump(buffer, family);
        var all = Dump(buffer[..length], "ip neigh show", NeighbourCodec.Parse);
        return linkIndex is { } index ? all.FindAll(n => n.LinkIndex == index) : all;
    }

    private void ChangeNeighbour(Neighbour neighbour, NeighbourVerb verb)
    {
        ArgumentNullException.ThrowIfNull(neighbour);
        ArgumentNullException.ThrowIfNull(neighbour.Address, nameof(neighbour));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(neighbour.LinkIndex, nameof(neighbour));
        Span<byte> buffer = stackalloc byte[RequestBufferSize];
        var length = NeighbourCodec.Change(
            buffer, neighbour.LinkIndex, neighbour.Address, verb == NeighbourVerb.Delete ? null : neighbour.Mac,
            neighbour.State, verb);
        Execute(buffer[..length], (neighbour, verb), static s =>
            $"ip neigh {s.verb.ToString().ToLowerInvariant().Replace("delete", "del", StringComparison.Ordinal)} {s.neighbour.Address}" +
            $"{(s.neighbour.Mac is { } mac && s.verb != NeighbourVerb.Delete ? " lladdr " + mac : "")} dev {s.neighbour.LinkIndex}" +
            $"{(s.verb != NeighbourVerb.Delete ? " nud " + s.neighbour.State.ToString().ToLowerInvariant() : "")}");
    }
}
