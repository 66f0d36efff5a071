using System.Net;
using System.Net.Sockets;
using BranchEni.Netlink;

namespace BranchEni.Sandbox.Fabric;

/// <summary>
/// The VPC's instance metadata service: 169.254.169.254 on the router namespace's loopback, so the node's ENIs and its
/// branch ENIs (a pod whose metadata access is Allowed) reach it through the VPC as on EC2. The listening socket is
/// made inside the router namespace on the namespace's own thread (STYLE.md); it then works from any thread, and the
/// sandbox's Kestrel serves the emulated IMDS on it.
/// </summary>
internal static class FabricMetadata
{
    public static readonly IPAddress Address = IPAddress.Parse("169.254.169.254");

    public const int Port = 80;

    /// <summary>Puts the address on the router's loopback and returns a socket bound to it (not yet listening).</summary>
    public static Socket Bind(NetworkNamespace router)
    {
        ArgumentNullException.ThrowIfNull(router);
        using (var r = router.OpenNetlink())
        {
            var lo = r.GetLink("lo");
            r.SetLinkUp(lo.Index);
            if (!r.ListAddresses(lo.Index, AddressFamily.InterNetwork).Any(a => a.Address.Equals(Address)))
            {
                r.AddAddress(Loopback(lo.Index));
            }
        }

        return router.Run(() =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
                socket.Bind(new IPEndPoint(Address, Port));
                return socket;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        });
    }

    /// <summary>Takes the address off the router's loopback (the fabric leaves the router as it found it).</summary>
    public static void Remove(NetlinkHandle r)
    {
        ArgumentNullException.ThrowIfNull(r);
        if (r.TryGetLink("lo") is { } lo && r.ListAddresses(lo.Index, AddressFamily.InterNetwork).Any(a => a.Address.Equals(Address)))
        {
            r.DeleteAddress(Loopback(lo.Index));
        }
    }

    private static InterfaceAddress Loopback(int index) => new() { LinkIndex = index, Address = Address, PrefixLength = 32 };
}
