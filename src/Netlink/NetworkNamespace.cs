using Microsoft.Win32.SafeHandles;

namespace BranchEni.Netlink;

/// <summary>
/// An open network namespace (a file descriptor on its nsfs inode). Work inside it happens on a dedicated thread
/// that setns()'s into it and ends afterwards, so no pooled thread ever changes namespace and nothing runs across
/// an await in the wrong namespace. Sockets created there stay bound to it and work from any thread.
/// </summary>
public sealed class NetworkNamespace : IDisposable
{
    private NetworkNamespace(SafeFileHandle handle, string path)
    {
        Handle = handle;
        Path = path;
    }

    /// <summary>The path it was opened from.</summary>
    public string Path { get; }

    /// <summary>The nsfs file descriptor (for IFLA_NET_NS_FD and setns).</summary>
    public SafeFileHandle Handle { get; }

    /// <summary>Opens a namespace by path: a bind mount such as /run/netns/x, or /proc/&lt;pid&gt;/ns/net.
    /// Equivalent to what `ip netns exec x` opens.</summary>
    /// <exception cref="NetlinkException">The path cannot be opened (errno ENOENT, EACCES, ...).</exception>
    public static NetworkNamespace Open(string path) => throw new NotImplementedException();

    /// <summary>Opens the calling thread's current namespace (/proc/thread-self/ns/net).</summary>
    public static NetworkNamespace OpenCurrent() => throw new NotImplementedException();

    /// <summary>Runs a short synchronous action inside this namespace on a dedicated thread and waits for it;
    /// an exception thrown by the action is rethrown here. Equivalent to: `ip netns exec x &lt;action&gt;`.</summary>
    public void Run(Action action) => throw new NotImplementedException();

    /// <summary>Like <see cref="Run(Action)"/>, returning the function's result.</summary>
    public T Run<T>(Func<T> function) => throw new NotImplementedException();

    /// <summary>Writes a sysctl inside this namespace. <paramref name="name"/> is dotted or slashed
    /// ("net.ipv4.conf.eth0.rp_filter" or "net/ipv4/conf/eth0/rp_filter").
    /// Equivalent to: `ip netns exec x sysctl -w net.ipv4.conf.eth0.rp_filter=2`.</summary>
    public void WriteSysctl(string name, string value) => throw new NotImplementedException();

    /// <summary>Reads a sysctl inside this namespace, trailing newline removed.
    /// Equivalent to: `ip netns exec x sysctl -n net.ipv4.conf.eth0.rp_filter`.</summary>
    public string ReadSysctl(string name) => throw new NotImplementedException();

    /// <summary>Opens a netlink handle bound to this namespace (see <see cref="NetlinkHandle.Open(NetworkNamespace)"/>).</summary>
    public NetlinkHandle OpenNetlink() => NetlinkHandle.Open(this);

    public void Dispose() => Handle.Dispose();
}
