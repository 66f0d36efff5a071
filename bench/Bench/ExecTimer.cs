using System.Diagnostics;
using System.Globalization;

namespace BranchEni.Bench;

/// <summary>
/// Times how long a command takes per execution by running it many times in one bash loop (so .NET's own process
/// start cost is not in the number), in interleaved blocks so machine noise hits ours and the reference alike.
/// </summary>
internal static class ExecTimer
{
    /// <summary>Median per-execution milliseconds over <paramref name="blocks"/> blocks of <paramref name="perBlock"/> runs,
    /// for each command, blocks interleaved (A B A B ...). With <paramref name="netns"/> each loop runs inside that
    /// network namespace (entered once per block, so its cost is not in the per-execution time).</summary>
    public static double[] CompareMs(IReadOnlyList<string> commands, int blocks = 7, int perBlock = 40, string? netns = null)
    {
        var samples = commands.Select(_ => new List<double>()).ToArray();
        foreach (var command in commands)
        {
            TimeLoop(command, 5, netns); // warm the page cache
        }

        for (var b = 0; b < blocks; b++)
        {
            for (var c = 0; c < commands.Count; c++)
            {
                samples[c].Add(TimeLoop(commands[c], perBlock, netns) / perBlock);
            }
        }

        return samples.Select(Median).ToArray();
    }

    private static double TimeLoop(string command, int count, string? netns)
    {
        var script = $"for ((i = 0; i < {count.ToString(CultureInfo.InvariantCulture)}; i++)); do {command}; done";
        var psi = netns is null
            ? new ProcessStartInfo("/bin/bash", ["-c", script])
            : new ProcessStartInfo("ip", ["netns", "exec", netns, "/bin/bash", "-c", script])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var watch = Stopwatch.StartNew();
        using var process = Process.Start(psi)!;
        process.StandardOutput.ReadToEnd();
        var err = process.StandardError.ReadToEnd();
        process.WaitForExit();
        watch.Stop();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"benchmark command failed ({process.ExitCode}): {command}\n{err}");
        }

        return watch.Elapsed.TotalMilliseconds;
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values.Count % 2 == 1 ? values[values.Count / 2] : (values[values.Count / 2 - 1] + values[values.Count / 2]) / 2;
    }
}
