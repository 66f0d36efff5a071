using System.Net;
using System.Runtime.InteropServices;
using BranchEni.Netlink.Tests.Support;

namespace BranchEni.Netlink.Tests.Kernel;

/// <summary>Namespace handles, actions and sysctls on dedicated threads; concurrency; EPERM.</summary>
public sealed partial class NamespaceTests : IDisposable
{
    private readonly TestNamespace _a = new();
    private readonly TestNamespace _b = new();

    public void Dispose()
    {
        _a.Dispose();
        _b.Dispose();
    }

    [Fact]
    public void Run_executes_inside_the_namespace_and_hands_back_results_and_exceptions()
    {
        // /proc/net follows the thread-group leader; /proc/thread-self/net is the calling thread's namespace.
        var inside = _a.Namespace.Run(() => File.ReadAllText("/proc/thread-self/net/dev"));
        var outside = File.ReadAllText("/proc/thread-self/net/dev");
        var insideNames = inside.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(2)
            .Select(line => line.Split(':')[0].Trim()).Order().ToArray();
        var expected = _a.IpJson("link", "show").Select(l => l.GetProperty("ifname").GetString()!).Order().ToArray();
        Assert.Equal(expected, insideNames);
        Assert.NotEqual(outside, inside);
        var thrown = Assert.Throws<InvalidOperationException>(() => _a.Namespace.Run(() => throw new InvalidOperationException("from inside")));
        Assert.Equal("from inside", thrown.Message);
        Assert.Equal(outside.Split('\n').Length, File.ReadAllText("/proc/thread-self/net/dev").Split('\n').Length);
    }

    [Fact]
    public void Identity_is_the_same_through_a_bind_mount_and_a_process_and_differs_between_namespaces()
    {
        using var holder = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("ip", $"netns exec {_a.Name} sleep 60"))!;
        try
        {
            var ours = new FileInfo("/proc/self/ns/net").LinkTarget;
            for (var i = 0; i < 100 && new FileInfo($"/proc/{holder.Id}/ns/net").LinkTarget == ours; i++)
            {
                Thread.Sleep(20);
            }

            using var viaProcess = NetworkNamespace.Open($"/proc/{holder.Id}/ns/net");
            using var other = NetworkNamespace.Open(_b.Path);

            Assert.Equal(_a.Namespace.Identity, viaProcess.Identity);
            Assert.NotEqual(_a.Namespace.Identity, other.Identity);
        }
        finally
        {
            holder.Kill();
            holder.WaitForExit();
        }
    }

    [Fact]
    public void Sysctls_are_written_and_read_inside_the_namespace_only()
    {
        using var nl = _a.OpenHandle();
        nl.AddVethPair(new VethPairSpec { Name = "vlan.eth.7", PeerName = "p7" });
        var hostForwarding = File.ReadAllText("/proc/sys/net/ipv4/ip_forward").Trim();

        _a.Namespace.WriteSysctl("net/ipv4/conf/vlan.eth.7/rp_filter", "2");
        _a.Namespace.WriteSysctl("net.ipv4.ip_forward", hostForwarding == "1" ? "0" : "1");

        Assert.Equal("2", _a.Exec("cat", "/proc/sys/net/ipv4/conf/vlan.eth.7/rp_filter").Trim());
        Assert.Equal("2", _a.Namespace.ReadSysctl("net/ipv4/conf/vlan.eth.7/rp_filter"));
        Assert.NotEqual(hostForwarding, _a.Namespace.ReadSysctl("net.ipv4.ip_forward"));
        Assert.Equal(hostForwarding, File.ReadAllText("/proc/sys/net/ipv4/ip_forward").Trim());
        Assert.Throws<ArgumentException>(() => _a.Namespace.WriteSysctl("net/../../etc/passwd", "x"));
        Assert.ThrowsAny<IOException>(() => _a.Namespace.ReadSysctl("net/ipv4/conf/nope/rp_filter"));
    }

    [Fact]
    public void Opening_a_missing_namespace_is_ENOENT_and_handles_open_by_path_and_for_the_current_namespace()
    {
        Assert.Equal(Errno.ENOENT, Assert.Throws<NetlinkException>(() => NetworkNamespace.Open("/run/netns/nl-test-missing")).Errno);
        using (var byPath = NetlinkHandle.Open(_a.Path))
        {
            byPath.AddVethPair(new VethPairSpec { Name = "bp0", PeerName = "bp1" });
        }

        Assert.Single(_a.IpJson("link", "show", "dev", "bp0"));
        using var current = NetlinkHandle.Open();
        var hostLinks = Ip.Run("-j", "link", "show");
        Assert.All(current.ListLinks(), l => Assert.Contains($"\"ifname\":\"{l.Name}\"", hostLinks, StringComparison.Ordinal));
        Assert.Null(current.TryGetLink("bp0"));
    }

    [Fact]
    public void Two_namespaces_are_used_at_once_from_several_threads()
    {
        using var sharedA = _a.OpenHandle();
        using var sharedB = _b.OpenHandle();
        const int threadsPerNamespace = 3;
        const int linksPerThread = 15;
        var failures = new System.Collections.Concurrent.ConcurrentBag<Exception>();
        var workers = Enumerable.Range(0, threadsPerNamespace * 2).Select(t => new Thread(() =>
        {
            try
            {
                // Even threads work in A, odd ones in B; each alternates the shared handle with its own.
                var ns = t % 2 == 0 ? _a : _b;
                var shared = t % 2 == 0 ? sharedA : sharedB;
                using var own = ns.OpenHandle();
                for (var i = 0; i < linksPerThread; i++)
                {
                    var handle = i % 2 == 0 ? shared : own;
                    handle.AddVethPair(new VethPairSpec { Name = $"t{t}x{i}", PeerName = $"t{t}y{i}" });
                    var index = handle.GetLink($"t{t}x{i}").Index;
                    handle.SetLinkUp(index);
                    handle.AddAddress(new InterfaceAddress { LinkIndex = index, Address = IPAddress.Parse($"10.{t}.{i}.1"), PrefixLength = 24 });
                    Assert.NotEmpty(handle.ListLinks());
                }
            }
#pragma warning disable CA1031 // collected and asserted on the test thread
            catch (Exception e)
#pragma warning restore CA1031
            {
                failures.Add(e);
            }
        })).ToList();
        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());
        Assert.Empty(failures);

        foreach (var (ns, parity) in new[] { (_a, 0), (_b, 1) })
        {
            var expected = Enumerable.Range(0, threadsPerNamespace * 2).Where(t => t % 2 == parity)
                .SelectMany(t => Enumerable.Range(0, linksPerThread).Select(i => $"t{t}x{i}")).Order().ToArray();
            var actual = ns.IpJson("link", "show").Select(l => l.GetProperty("ifname").GetString()!)
                .Where(n => n.Contains('x', StringComparison.Ordinal)).Order().ToArray();
            Assert.Equal(expected, actual);
            Assert.Equal(expected.Length, ns.IpJson("-4", "addr", "show").SelectMany(l => l.GetProperty("addr_info").EnumerateArray())
                .Count(a => a.GetProperty("local").GetString()!.StartsWith("10.", StringComparison.Ordinal)));
        }
    }

    [Fact]
    public void A_caller_without_CAP_NET_ADMIN_gets_EPERM()
    {
        using var nl = _a.OpenHandle();
        NetlinkException? refused = null;
        var thread = new Thread(() =>
        {
            // Capabilities are per thread in the kernel; capset() here drops them for this thread only, which then ends.
            DropEffectiveCapabilities();
            refused = Assert.Throws<NetlinkException>(() => nl.AddVethPair(new VethPairSpec { Name = "np0", PeerName = "np1" }));
        });
        thread.Start();
        thread.Join();
        Assert.NotNull(refused);
        Assert.Equal(Errno.EPERM, refused.Errno);
        Assert.DoesNotContain(_a.IpJson("link", "show"), l => l.GetProperty("ifname").GetString() == "np0");
    }

    private static unsafe void DropEffectiveCapabilities()
    {
        // linux/capability.h: _LINUX_CAPABILITY_VERSION_3 uses two 32-bit data words.
        var header = stackalloc uint[2] { 0x20080522, 0 };
        var data = stackalloc uint[6];
        if (CapGet(header, data) != 0)
        {
            throw new InvalidOperationException($"capget failed: {Marshal.GetLastPInvokeError()}");
        }

        data[0] = 0; // effective, low word
        data[3] = 0; // effective, high word
        if (CapSet(header, data) != 0)
        {
            throw new InvalidOperationException($"capset failed: {Marshal.GetLastPInvokeError()}");
        }
    }

    [LibraryImport("libc", EntryPoint = "capget", SetLastError = true)]
    private static unsafe partial int CapGet(uint* header, uint* data);

    [LibraryImport("libc", EntryPoint = "capset", SetLastError = true)]
    private static unsafe partial int CapSet(uint* header, uint* data);
}
