namespace BranchEni.Netlink;

/// <summary>
/// An rtnetlink (NETLINK_ROUTE) socket bound to one network namespace, and the verbs that use it. The socket belongs
/// to the namespace it was created in, whatever thread later uses it. Calls are synchronous and serialized per
/// handle (safe from several threads; use one handle per thread for parallelism). Every refusal is a
/// <see cref="NetlinkException"/> carrying the errno, the `ip` command the call equals and the kernel's text.
/// </summary>
public sealed partial class NetlinkHandle : IDisposable
{
    private NetlinkHandle()
    {
    }

    /// <summary>Opens a handle in the calling thread's current namespace.</summary>
    public static NetlinkHandle Open() => throw new NotImplementedException();

    /// <summary>Opens a handle bound to <paramref name="ns"/>: the socket is created on a dedicated thread that
    /// setns()'s into it, then the thread ends. Equivalent to the socket `ip -n x` uses.</summary>
    public static NetlinkHandle Open(NetworkNamespace ns) => throw new NotImplementedException();

    /// <summary>Opens a handle bound to the namespace at <paramref name="namespacePath"/>
    /// (/run/netns/x or /proc/&lt;pid&gt;/ns/net).</summary>
    public static NetlinkHandle Open(string namespacePath) => throw new NotImplementedException();

    public void Dispose()
    {
    }
}
