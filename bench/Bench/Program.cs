using System.Globalization;
using System.Text;

namespace BranchEni.Bench;

/// <summary>
/// Prints a table of ratios, each measured side by side in this run (these machines are noisy; absolute times alone
/// mean little). `--write FILE` also records the table with a description of the machine.
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        var write = args.SkipWhile(a => a != "--write").Skip(1).FirstOrDefault();
        // `--only start,cni` runs some groups (for working on one); the recorded table always has all of them.
        var only = args.SkipWhile(a => a != "--only").Skip(1).FirstOrDefault()?.Split(',');
        var groups = new (string Name, Func<IEnumerable<Measurement>> Run)[]
        {
            ("start", StartupBench.Run),
            ("netlink", () => NetlinkBench.Run()),
            ("cni", BranchCniBench.Run),
            ("delegate", DelegateBench.Run),
            ("agent", AgentBench.Run),
            ("rate", RateBench.Run),
            ("cluster", ClusterBench.Run),
        };
        if (only is not null && write is not null)
        {
            Console.Error.WriteLine("--only and --write do not go together: the recorded table has every row");
            return 2;
        }

        var rows = new List<Measurement>();
        foreach (var (name, run) in groups.Where(g => only is null || only.Contains(g.Name)))
        {
            rows.AddRange(run());
        }

        var table = Render(rows);
        Console.Write(table);
        if (write is not null)
        {
            File.WriteAllText(write, $"# Benchmarks\n\nMeasured by `./bench.sh` on {DateTime.UtcNow:yyyy-MM-dd} UTC.\n\n" +
                $"Machine: {MachineDescription()}\n\n{table}");
        }

        return rows.All(r => r.MeetsAim) ? 0 : 3;
    }

    private static string Render(IReadOnlyList<Measurement> rows)
    {
        var sb = new StringBuilder();
        sb.AppendLine("| measurement | ours | reference | reference value | ratio | aim | meets aim |");
        sb.AppendLine("|---|---:|---|---:|---:|---|---|");
        foreach (var r in rows)
        {
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| {r.Name} | {r.Format(r.Ours)} | {r.ReferenceName} | {r.Format(r.Reference)} | " +
                $"{r.Ratio?.ToString("0.00", CultureInfo.InvariantCulture) ?? "-"} | {r.AimText} | {(r.MeetsAim ? "yes" : "NO")} |");
        }

        return sb.ToString();
    }

    private static string MachineDescription()
    {
        var cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim();
        return $"{Environment.ProcessorCount} cores ({cpu}), {Environment.OSVersion}, .NET {Environment.Version}";
    }
}
