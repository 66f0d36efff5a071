using System.Text.Json;
using BranchEni.Cni.Logging;

namespace BranchEni.Cni.Tests.Logging;

public sealed class PluginLogTests : IDisposable
{
    private readonly string dir = Path.Combine(Path.GetTempPath(), $"branch-eni-log-{Guid.NewGuid():N}");

    [Fact]
    public void LogLinesAreCompactJsonWithScalarPropertiesAndTheFileRollsAtItsSizeLimit()
    {
        var file = Path.Combine(dir, "sub", "plugin.log");
        var padding = new string('x', 1000);
        using (var log = PluginLog.Create(file, "info"))
        {
            log.Debug("not written at info");
            for (var i = 0; i < (PluginLog.FileSizeLimitBytes / 1000) + 100; i++)
            {
                log.Information("ADD {ContainerId} {Padding}", $"ctr{i}", padding);
            }
        }

        var files = Directory.GetFiles(Path.Combine(dir, "sub")).Order(StringComparer.Ordinal).ToArray();
        Assert.True(files.Length >= 2, string.Join(",", files));
        // The shared (multi-process) sink checks the size after a write, so a file may end one event past the limit.
        Assert.All(files, f => Assert.True(new FileInfo(f).Length <= PluginLog.FileSizeLimitBytes + 4096, $"{f}: {new FileInfo(f).Length}"));
        var first = JsonDocument.Parse(File.ReadLines(files[0]).First()).RootElement;
        Assert.Equal("ctr0", first.GetProperty("ContainerId").GetString());
        Assert.Equal("ADD {ContainerId} {Padding}", first.GetProperty("@mt").GetString());
        Assert.True(first.TryGetProperty("pid", out _));
        Assert.DoesNotContain(files.SelectMany(File.ReadLines), l => l.Contains("not written", StringComparison.Ordinal));
    }

    [Fact]
    public void AnUnwritableLogFileNeverFailsThePlugin()
    {
        using var log = PluginLog.Create("/proc/branch-eni-cannot/plugin.log", "debug");
        log.Information("dropped");
    }

    public void Dispose()
    {
        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
