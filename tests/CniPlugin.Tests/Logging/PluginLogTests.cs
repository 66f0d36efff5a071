using System.Text.Json;
using BranchEni.Cni.Logging;
using Serilog;
using Serilog.Formatting.Compact;

namespace BranchEni.Cni.Tests.Logging;

public sealed class PluginLogTests : IDisposable
{
    private readonly string dir = Path.Combine(Path.GetTempPath(), $"branch-eni-log-{Guid.NewGuid():N}");

    [Fact]
    public void LogLinesAreCompactJsonWithScalarPropertiesAndTheFileRollsAtItsSizeLimit()
    {
        var file = Path.Combine(dir, "sub", "plugin.log");
        var padding = new string('x', 1000);
        var count = (int)(PluginLog.FileSizeLimitBytes / 1000) + 100;
        using (var log = PluginLog.Create(file, "info"))
        {
            log.Debug("not written at info");
            for (var i = 0; i < count; i++)
            {
                log.Information("ADD {ContainerId} {Padding}", $"ctr{i}", padding);
            }
        }

        Assert.Equal(["plugin.log", "plugin.log.1"], Directory.GetFiles(Path.Combine(dir, "sub")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        // A file is rolled after the write that reaches the limit, so it may end one event past it.
        Assert.InRange(new FileInfo(file + ".1").Length, PluginLog.FileSizeLimitBytes, PluginLog.FileSizeLimitBytes + 2048);
        var first = JsonDocument.Parse(File.ReadLines(file + ".1").First()).RootElement;
        Assert.Equal("ctr0", first.GetProperty("ContainerId").GetString());
        Assert.Equal("ADD {ContainerId} {Padding}", first.GetProperty("@mt").GetString());
        Assert.True(first.TryGetProperty("pid", out _));
        Assert.Equal($"ctr{count - 1}", JsonDocument.Parse(File.ReadLines(file).Last()).RootElement.GetProperty("ContainerId").GetString());
        Assert.Equal(count, File.ReadLines(file + ".1").Concat(File.ReadLines(file)).Count());
        Assert.DoesNotContain(File.ReadLines(file).Concat(File.ReadLines(file + ".1")), l => l.Contains("not written", StringComparison.Ordinal));
    }

    [Fact]
    public void RolledFilesShiftAndOnlyTheRetainedCountIsKept()
    {
        Directory.CreateDirectory(dir);
        var file = Path.Combine(dir, "plugin.log");
        using (var log = Logger(file, sizeLimit: 4096, retained: 3))
        {
            for (var i = 0; i < 200; i++)
            {
                log.Information("event {N} {Padding}", i, new string('y', 200));
            }
        }

        Assert.Equal(["plugin.log", "plugin.log.1", "plugin.log.2"], Directory.GetFiles(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        // Oldest to newest: .2, .1, the live file; each continues where the older one stopped.
        var numbers = new[] { ".2", ".1", "" }.SelectMany(s => File.ReadLines(file + s))
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("N").GetInt32()).ToList();
        Assert.Equal(Enumerable.Range(numbers[0], numbers.Count), numbers);
        Assert.Equal(199, numbers[^1]);
        Assert.All(new[] { ".2", ".1" }, s => Assert.InRange(new FileInfo(file + s).Length, 4096, 4096 + 512));
    }

    [Fact]
    public void WritersAtOnceNeverInterleaveOrOverwriteLines()
    {
        // Two sinks on one file stand for two plugin processes: each has its own O_APPEND descriptor.
        Directory.CreateDirectory(dir);
        var file = Path.Combine(dir, "plugin.log");
        using (var a = Logger(file, sizeLimit: PluginLog.FileSizeLimitBytes, retained: 5))
        using (var b = Logger(file, sizeLimit: PluginLog.FileSizeLimitBytes, retained: 5))
        {
            Parallel.For(0, 2000, i => (i % 2 == 0 ? a : b).Information("line {N} {Padding}", i, new string('z', 300)));
        }

        var lines = File.ReadAllLines(file);
        Assert.Equal(Enumerable.Range(0, 2000), lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("N").GetInt32()).Order());
    }

    [Fact]
    public void AnUnwritableLogFileNeverFailsThePlugin()
    {
        using var log = PluginLog.Create("/proc/branch-eni-cannot/plugin.log", "debug");
        log.Information("dropped");
    }

    private static Serilog.Core.Logger Logger(string file, long sizeLimit, int retained) =>
        new LoggerConfiguration().WriteTo.Sink(AppendFileSink.Open(file, sizeLimit, retained, new CompactJsonFormatter())).CreateLogger();

    public void Dispose()
    {
        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
