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
        var rows = new List<Measurement>();
        rows.AddRange(StartupBench.Run());
        rows.AddRange(NetlinkBench.Run());
        rows.AddRange(BranchCniBench.Run());

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
        sb.AppendLine("| measurement | ours (ms) | reference | reference (ms) | ratio | aim | meets aim |");
        sb.AppendLine("|---|---:|---|---:|---:|---|---|");
        foreach (var r in rows)
        {
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| {r.Name} | {r.OursMs:0.000} | {r.ReferenceName} | {r.ReferenceMs?.ToString("0.000", CultureInfo.InvariantCulture) ?? "-"} | " +
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
