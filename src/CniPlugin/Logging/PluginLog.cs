using Serilog;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace BranchEni.Cni.Logging;

/// <summary>
/// Serilog to `logFile`: one compact JSON object per line, rolled at 10 MiB to `logFile.1` .. `.4` (5 files in all;
/// see <see cref="AppendFileSink"/>). Never stdout (that is the CNI protocol's channel). Created only for commands
/// that do work, so VERSION stays a bare process start.
/// </summary>
internal static class PluginLog
{
    public const long FileSizeLimitBytes = 10 * 1024 * 1024;
    public const int RetainedFiles = 5;

    /// <summary>A logger for <paramref name="logFile"/>; when the file cannot be opened the plugin still works
    /// (logging is diagnostics, never a reason to fail a pod) and says so on stderr.</summary>
    public static Logger Create(string logFile, string level)
    {
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(logFile)!);
            return new LoggerConfiguration()
                .MinimumLevel.Is(LevelOf(level))
                .Enrich.WithProperty("pid", Environment.ProcessId)
                .WriteTo.Sink(AppendFileSink.Open(logFile, FileSizeLimitBytes, RetainedFiles, new CompactJsonFormatter()))
                .CreateLogger();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"branch-eni: cannot log to {logFile}: {e.Message}");
            return Silent();
        }
    }

    /// <summary>A logger that writes nothing.</summary>
    /// <remarks>The plugin passes the sealed <see cref="Logger"/>, not <see cref="ILogger"/>: Serilog's generic methods
    /// called through the interface are generic virtual methods, which native AOT resolves at run time on first call,
    /// once per argument-type combination, in every process (a tenth of a DEL in the bench).</remarks>
    public static Logger Silent() => new LoggerConfiguration().CreateLogger();

    private static LogEventLevel LevelOf(string level) => level switch
    {
        "verbose" or "trace" => LogEventLevel.Verbose,
        "debug" => LogEventLevel.Debug,
        "warning" or "warn" => LogEventLevel.Warning,
        "error" => LogEventLevel.Error,
        "fatal" => LogEventLevel.Fatal,
        _ => LogEventLevel.Information,
    };
}
