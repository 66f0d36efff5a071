using System.Globalization;
using BranchEni.Testing;

namespace BranchEni.Bench;

/// <summary>
/// CNI ADD and DEL of a branch pod (strict) with real 802.1Q, in one micro-VM boot (branch-cni-bench.sh): our binary
/// against Debian's Go vlan plugin with static IPAM, and against `ip -batch` doing the same kernel writes (the floor).
/// Each method adds <see cref="PodsPerRound"/> pods then deletes them, <see cref="Rounds"/> rounds interleaved; a row is
/// the median over rounds of the per-call milliseconds (VM times: TCG emulation makes everything slower than a node).
/// </summary>
internal static class BranchCniBench
{
    private const int PodsPerRound = 10;
    private const int Rounds = 3;

    public static IEnumerable<Measurement> Run()
    {
        var binary = RepoPaths.RequireCniBinary();
        var script = File.ReadAllText(Path.Combine(RepoPaths.Root, "bench", "Bench", "branch-cni-bench.sh"));
        var empty = Path.Combine(RepoPaths.Root, "artifacts", "bench", "empty-aot", "empty-aot");
        if (!File.Exists(empty))
        {
            throw new FileNotFoundException($"the empty native-AOT program is not at {empty}; bench.sh publishes it");
        }

        var job = new MicroVmJob($"export BIN={binary} EMPTY={empty} N={PodsPerRound} ROUNDS={Rounds}\n{script}") { Timeout = TimeSpan.FromSeconds(900) };
        var result = MicroVm.RunAsync(job).GetAwaiter().GetResult().EnsureSuccess();
        var ms = PerCallMs(result.Stdout);
        var peakKb = PeakKb(result.Stdout);
        const string Floor = "ip -batch (node + pod ns)";
        yield return new Measurement("CNI ADD (VM) vs Go vlan", ms["ours-add"], "Go vlan + static", ms["go-add"], AimRatio: 0.5, AimAbsolute: null);
        yield return new Measurement("CNI ADD (VM) vs ip -batch floor", ms["ours-add"], Floor, ms["floor-add"], AimRatio: 1.3, AimAbsolute: null);
        yield return new Measurement("CNI DEL (VM) vs ip -batch floor", ms["ours-del"], "ip -batch", ms["floor-del"], AimRatio: 1.3, AimAbsolute: null);
        // No aim: shown so the reader sees the Go plugin's DEL beside ours.
        yield return new Measurement("CNI DEL (VM) vs Go vlan", ms["ours-del"], "Go vlan + static", ms["go-del"], AimRatio: null, AimAbsolute: null);
        // No aim: the bare start of each process in the VM, which bounds what ADD and DEL can reach (see docs/benchmarks.md).
        yield return new Measurement("CNI VERSION (VM) vs Go vlan", ms["ours-version"], "Go vlan", ms["go-version"], AimRatio: null, AimAbsolute: null);
        yield return new Measurement("empty native-AOT program (VM) vs Go vlan ADD", ms["empty-version"], "Go vlan + static", ms["go-add"],
            AimRatio: null, AimAbsolute: null);
        yield return new Measurement("CNI peak RSS (ADD, VM) vs Go vlan", peakKb["ours-add"] / 1024.0, "Go vlan + static", peakKb["go-add"] / 1024.0,
            AimRatio: null, AimAbsolute: null, Unit: "MB");
    }

    /// <summary>Median over rounds of per-call ms, from the script's `BENCH method round count ns` lines; every
    /// method must have reported every round.</summary>
    internal static Dictionary<string, double> PerCallMs(string stdout)
    {
        var samples = new Dictionary<string, List<double>>(StringComparer.Ordinal);
        foreach (var line in stdout.Split('\n'))
        {
            var f = line.Trim().Split(' ');
            if (f.Length != 5 || f[0] != "BENCH")
            {
                continue;
            }

            var count = int.Parse(f[3], CultureInfo.InvariantCulture);
            var ns = long.Parse(f[4], CultureInfo.InvariantCulture);
            if (!samples.TryGetValue(f[1], out var list))
            {
                samples[f[1]] = list = [];
            }

            list.Add(ns / 1e6 / count);
        }

        string[] expected = ["ours-add", "ours-del", "go-add", "go-del", "floor-add", "floor-del", "ours-version", "go-version", "empty-version"];
        foreach (var name in expected)
        {
            if (!samples.TryGetValue(name, out var list) || list.Count != Rounds)
            {
                throw new InvalidOperationException($"the VM bench did not report {Rounds} rounds of {name}:\n{stdout}");
            }
        }

        return samples.ToDictionary(p => p.Key, p => Median(p.Value), StringComparer.Ordinal);
    }

    /// <summary>Peak resident kB of one ADD per method, from the script's `PEAK method kB` lines.</summary>
    internal static Dictionary<string, long> PeakKb(string stdout)
    {
        var peaks = stdout.Split('\n').Select(l => l.Trim().Split(' ')).Where(f => f.Length == 3 && f[0] == "PEAK")
            .ToDictionary(f => f[1], f => long.Parse(f[2], CultureInfo.InvariantCulture), StringComparer.Ordinal);
        return peaks.ContainsKey("ours-add") && peaks.ContainsKey("go-add")
            ? peaks
            : throw new InvalidOperationException($"the VM bench did not report the peak RSS of both ADDs:\n{stdout}");
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values.Count % 2 == 1 ? values[values.Count / 2] : (values[values.Count / 2 - 1] + values[values.Count / 2]) / 2;
    }
}
