using System.Runtime.ExceptionServices;
using BranchEni.Netlink.Interop;
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
    public static NetworkNamespace Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var fd = Libc.Open(path, Libc.O_RDONLY | Libc.O_CLOEXEC);
        if (fd < 0)
        {
            throw new NetlinkException(Libc.LastErrno, $"open network namespace {path}");
        }

        return new NetworkNamespace(new SafeFileHandle(fd, ownsHandle: true), path);
    }

    /// <summary>Opens the calling thread's current namespace (/proc/thread-self/ns/net).</summary>
    public static NetworkNamespace OpenCurrent() => Open("/proc/thread-self/ns/net");

    /// <summary>Runs a short synchronous action inside this namespace on a dedicated thread and waits for it;
    /// an exception thrown by the action is rethrown here. Equivalent to: `ip netns exec x &lt;action&gt;`.
    /// Inside, /proc/sys/net and /proc/thread-self/net are this namespace's; /proc/net (= /proc/self/net) still shows
    /// the thread-group leader's, so read per-namespace files through /proc/thread-self.</summary>
    public void Run(Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        Run(() =>
        {
            action();
            return true;
        });
    }

    /// <summary>Like <see cref="Run(Action)"/>, returning the function's result.</summary>
    public T Run<T>(Func<T> function)
    {
        ArgumentNullException.ThrowIfNull(function);
        T result = default!;
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                Enter();
                result = function();
            }
#pragma warning disable CA1031 // Everything is handed back to the calling thread and rethrown there.
            catch (Exception e)
#pragma warning restore CA1031
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
        })
        {
            IsBackground = true,
            Name = "netns " + Path,
        };
        thread.Start();
        thread.Join();
        failure?.Throw();
        return result;
    }

    /// <summary>Writes a sysctl inside this namespace. <paramref name="name"/> is dotted or slashed
    /// ("net.ipv4.conf.eth0.rp_filter" or "net/ipv4/conf/eth0/rp_filter"); a name holding an interface name with dots
    /// (vlan.eth.7) must be slashed.
    /// Equivalent to: `ip netns exec x sysctl -w net.ipv4.conf.eth0.rp_filter=2`.</summary>
    public void WriteSysctl(string name, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var path = SysctlPath(name);
        // /proc/sys/net resolves to the namespace of the thread that opens the file, hence the dedicated thread.
        Run(() => File.WriteAllText(path, value));
    }

    /// <summary>Reads a sysctl inside this namespace, trailing newline removed.
    /// Equivalent to: `ip netns exec x sysctl -n net.ipv4.conf.eth0.rp_filter`.</summary>
    public string ReadSysctl(string name)
    {
        var path = SysctlPath(name);
        return Run(() => File.ReadAllText(path).TrimEnd('\n'));
    }

    /// <summary>
    /// Which namespace this is: the nsfs device and inode (equivalent to <c>stat -L -c '%d:%i' PATH</c>). The same
    /// namespace reached through a bind mount (/run/netns/NAME) and through a process (/proc/PID/ns/net) has one identity,
    /// while the text of the two paths' links differs (a bind mount's fd reads back as its path, not "net:[inode]").
    /// </summary>
    public unsafe (ulong Device, ulong Inode) Identity
    {
        get
        {
            var buffer = stackalloc byte[Libc.StatBufferSize];
            if (Libc.FStat(Fd, buffer) != 0)
            {
                throw new NetlinkException(Libc.LastErrno, $"fstat({Path})");
            }

            return (*(ulong*)buffer, *(ulong*)(buffer + 8));
        }
    }

    /// <summary>Opens a netlink handle bound to this namespace (see <see cref="NetlinkHandle.Open(NetworkNamespace)"/>).</summary>
    public NetlinkHandle OpenNetlink() => NetlinkHandle.Open(this);

    public void Dispose() => Handle.Dispose();

    /// <summary>Moves the calling thread into this namespace. Only for threads that end right after their work.</summary>
    internal void Enter()
    {
        var added = false;
        Handle.DangerousAddRef(ref added);
        try
        {
            if (Libc.SetNs((int)Handle.DangerousGetHandle(), Libc.CLONE_NEWNET) != 0)
            {
                throw new NetlinkException(Libc.LastErrno, $"setns {Path}");
            }
        }
        finally
        {
            if (added)
            {
                Handle.DangerousRelease();
            }
        }
    }

    internal int Fd => (int)Handle.DangerousGetHandle();

    private static string SysctlPath(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        // A dotted name maps dots to slashes; interface names may hold dots, so pass those slashed ("net/ipv4/conf/vlan.eth.7/rp_filter").
        var relative = name.Contains('/', StringComparison.Ordinal) ? name : name.Replace('.', '/');
        if (relative.StartsWith('/') || relative.Split('/').Any(part => part is "" or "." or ".."))
        {
            throw new ArgumentException($"sysctl name '{name}' must be relative, like net.ipv4.ip_forward", nameof(name));
        }

        return "/proc/sys/" + relative;
    }
}
