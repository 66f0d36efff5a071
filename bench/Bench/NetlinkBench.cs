using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using BranchEni.Netlink;

namespace BranchEni.Bench;

/// <summary>
/// 1,000 rtnetlink operations (100 veth pairs, 100 link-ups, 250 addresses, 250 routes, 300 rules) through our library
/// against the same operations in one `ip -batch` process, each in a fresh throwaway namespace, rounds interleaved.
/// </summary>
internal static class NetlinkBench
{
    private const int Links = 100;
    private const int Addresses = 250;
    private const int Routes = 250;
    private const int RulesCount = 300;

    public static IEnumerable<Measurement> Run(int rounds = 5)
    {
        var ours = new List<double>();
        var ip = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            ours.Add(InFreshNamespace(ThroughLibrary));
            ip.Add(InFreshNamespace(ThroughIpBatch));
        }

        yield return new Measurement("netlink: 1,000 operations", Median(ours), "ip -batch", Median(ip), AimRatio: 1.0, AimAbsolute: null);
    }

    private static double InFreshNamespace(Func<string, double> body)
    {
        var name = $"bench-nl-{Guid.NewGuid():N}"[..18];
        Sh($"ip netns add {name}");
        try
        {
            return body(name);
        }
        finally
        {
            Sh($"ip netns del {name}");
        }
    }

    private static double ThroughLibrary(string ns)
    {
        var watch = Stopwatch.StartNew();
        using var handle = NetlinkHandle.Open($"/run/netns/{ns}");
        var indexes = new int[Links];
        for (var i = 0; i < Links; i++)
        {
            handle.AddVethPair(new VethPairSpec { Name = $"vb{i}", PeerName = $"vp{i}" });
            indexes[i] = handle.GetLink($"vb{i}").Index;
        }

        foreach (var index in indexes)
        {
            handle.SetLinkUp(index);
        }

        for (var i = 0; i < Addresses; i++)
        {
            handle.AddAddress(new InterfaceAddress { LinkIndex = indexes[i % Links], Address = Address(i), PrefixLength = 32 });
        }

        for (var i = 0; i < Routes; i++)
        {
            handle.AddRoute(new Route { Destination = new IPNetwork(RouteDestination(i), 24), OutputIndex = indexes[i % Links], Scope = Scope.Link, Table = (uint)(1000 + i % 10) });
        }

        for (var i = 0; i < RulesCount; i++)
        {
            handle.AddRule(new Rule { From = new IPNetwork(Address(i), 32), Table = (uint)(1000 + i % 10), Priority = (uint)(2000 + i) });
        }

        return watch.Elapsed.TotalMilliseconds;
    }

    private static double ThroughIpBatch(string ns)
    {
        // Same operations; `ip` needs the link by name where we pass an index we looked up (the lookup is in our time).
        var batch = new StringBuilder();
        for (var i = 0; i < Links; i++)
        {
            batch.Append(CultureInfo.InvariantCulture, $"link add vb{i} type veth peer name vp{i}\n");
        }

        for (var i = 0; i < Links; i++)
        {
            batch.Append(CultureInfo.InvariantCulture, $"link set vb{i} up\n");
        }

        for (var i = 0; i < Addresses; i++)
        {
            batch.Append(CultureInfo.InvariantCulture, $"address add {Address(i)}/32 dev vb{i % Links}\n");
        }

        for (var i = 0; i < Routes; i++)
        {
            batch.Append(CultureInfo.InvariantCulture, $"route add {RouteDestination(i)}/24 dev vb{i % Links} scope link table {1000 + i % 10}\n");
        }

        for (var i = 0; i < RulesCount; i++)
        {
            batch.Append(CultureInfo.InvariantCulture, $"rule add from {Address(i)}/32 table {1000 + i % 10} priority {2000 + i}\n");
        }

        var file = Path.Combine(Path.GetTempPath(), $"{ns}.batch");
        File.WriteAllText(file, batch.ToString());
        try
        {
            var psi = new ProcessStartInfo("ip", ["-n", ns, "-batch", file]) { RedirectStandardError = true, UseShellExecute = false };
            var watch = Stopwatch.StartNew();
            using var process = Process.Start(psi)!;
            var err = process.StandardError.ReadToEnd();
            process.WaitForExit();
            var elapsed = watch.Elapsed.TotalMilliseconds;
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"ip -batch failed: {err}");
            }

            return elapsed;
        }
        finally
        {
            File.Delete(file);
        }
    }

    // 198.18.0.0/15 is the benchmarking range (RFC 2544); nothing leaves the throwaway namespace anyway.
    private static IPAddress Address(int i) => new([198, 18, (byte)(i / 250), (byte)(i % 250 + 1)]);

    private static IPAddress RouteDestination(int i) => new([198, 19, (byte)i, 0]);

    private static void Sh(string command)
    {
        using var p = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", command]) { UseShellExecute = false })!;
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"'{command}' failed with {p.ExitCode}");
        }
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values[values.Count / 2];
    }
}
