using BranchEni.Netlink.Protocol;

namespace BranchEni.Netlink;

/// <summary>
/// An rtnetlink (NETLINK_ROUTE) socket bound to one network namespace, and the verbs that use it. The socket belongs
/// to the namespace it was created in, whatever thread later uses it. Calls are synchronous and serialized per
/// handle (safe from several threads; use one handle per thread for parallelism). Every refusal is a
/// <see cref="NetlinkException"/> carrying the errno, the `ip` command the call equals and the kernel's text.
/// </summary>
public sealed partial class NetlinkHandle : IDisposable
{
    // Requests are built on the stack; the largest (a veth pair with both MACs and a namespace) is under 200 bytes.
    private const int RequestBufferSize = 1024;

    private readonly NetlinkSocket _socket;

    /// <summary>Wraps an existing socket (tests drive the protocol through a fake kernel).</summary>
    internal NetlinkHandle(NetlinkSocket socket) => _socket = socket;

    /// <summary>Opens a handle in the calling thread's current namespace.</summary>
    public static NetlinkHandle Open() => new(NetlinkSocket.Create());

    /// <summary>Opens a handle bound to <paramref name="ns"/>: the socket is created on a dedicated thread that
    /// setns()'s into it, then the thread ends. Equivalent to the socket `ip -n x` uses.</summary>
    public static NetlinkHandle Open(NetworkNamespace ns)
    {
        ArgumentNullException.ThrowIfNull(ns);
        return new NetlinkHandle(ns.Run(NetlinkSocket.Create));
    }

    /// <summary>Opens a handle bound to the namespace at <paramref name="namespacePath"/>
    /// (/run/netns/x or /proc/&lt;pid&gt;/ns/net).</summary>
    public static NetlinkHandle Open(string namespacePath)
    {
        using var ns = NetworkNamespace.Open(namespacePath);
        return Open(ns);
    }

    public void Dispose() => _socket.Dispose();

    /// <summary>Sends a request and throws on any refusal; <paramref name="describe"/> runs only on failure.</summary>
    private void Execute<TState>(Span<byte> request, TState state, Func<TState, string> describe) =>
        ExecuteUnlessMissing(request, missingErrno: null, state, describe);

    /// <summary>Sends a request; true when done. When the kernel answers <paramref name="missingErrno"/> (this request
    /// kind's "no such object": ENODEV for links, ESRCH for routes, ENOENT for rules) it returns false instead of
    /// throwing — the one place the *IfExists verbs get their meaning. Any other refusal throws.</summary>
    private bool ExecuteUnlessMissing<TState>(Span<byte> request, int? missingErrno, TState state, Func<TState, string> describe)
    {
        var errno = _socket.Execute(request, out var ack);
        if (errno == 0)
        {
            return true;
        }

        if (errno == missingErrno)
        {
            return false;
        }

        throw new NetlinkException(errno, describe(state), ack);
    }

    /// <summary>Runs a dump and collects what <paramref name="parse"/> returns; restarts cleanly when interrupted.</summary>
    private List<T> Dump<T>(Span<byte> request, string operation, Parser<T> parse)
        where T : class
    {
        var results = new List<T>();
        _socket.Dump(
            request,
            operation,
            (results, parse),
            static (in NetlinkMessage message, (List<T> Results, Parser<T> Parse) state) =>
            {
                if (state.Parse(in message) is { } item)
                {
                    state.Results.Add(item);
                }
            },
            static state => state.Item1.Clear());
        return results;
    }

    private delegate T? Parser<T>(in NetlinkMessage message)
        where T : class;
}
