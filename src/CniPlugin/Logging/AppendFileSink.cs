using System.Runtime.InteropServices;
using System.Text;
using BranchEni.Cni.Interop;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting;

namespace BranchEni.Cni.Logging;

/// <summary>
/// The plugin's log file: each event one write(2) to a descriptor opened O_APPEND, so the lines of plugins running at
/// once (one process per pod) never interleave or overwrite each other. When the file reaches its size limit it is
/// renamed to `&lt;file&gt;.1` (older ones shift to .2 ... and the oldest beyond the retained count is deleted) and a new
/// file is begun; a process still holding the old descriptor finishes its lines there.
/// </summary>
/// <remarks>
/// Why not Serilog.Sinks.File: its rolling sink compiles a regular expression, lists the directory and applies the
/// retention policy each time a process opens the file. The plugin is a new process per call, so that was a fifth of
/// an ADD in the bench (docs/benchmarks.md). This sink does one open and one size check per process.
/// </remarks>
internal sealed class AppendFileSink : ILogEventSink, IDisposable
{
    private readonly string path;
    private readonly long sizeLimit;
    private readonly int retainedFiles;
    private readonly ITextFormatter formatter;
    private readonly StringWriter buffer = new(System.Globalization.CultureInfo.InvariantCulture);
    private readonly Lock gate = new();
    private int fd;

    private AppendFileSink(string path, long sizeLimit, int retainedFiles, ITextFormatter formatter, int fd)
    {
        this.path = path;
        this.sizeLimit = sizeLimit;
        this.retainedFiles = retainedFiles;
        this.formatter = formatter;
        this.fd = fd;
    }

    /// <summary>Opens (creating, mode 0640) <paramref name="path"/> for appending; IOException when it cannot.</summary>
    public static AppendFileSink Open(string path, long sizeLimit, int retainedFiles, ITextFormatter formatter)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(retainedFiles, 1);
        var sink = new AppendFileSink(path, sizeLimit, retainedFiles, formatter, OpenAppend(path));
        sink.RollIfFull();
        return sink;
    }

    public void Emit(LogEvent logEvent)
    {
        lock (gate)
        {
            buffer.GetStringBuilder().Clear();
            formatter.Format(logEvent, buffer);
            var line = Encoding.UTF8.GetBytes(buffer.ToString());
            // Logging is diagnostics: a full disk or a vanished directory never fails the pod.
            if (fd >= 0 && Libc.Write(fd, line, line.Length) == line.Length)
            {
                RollIfFull();
            }
        }
    }

    public void Dispose()
    {
        lock (gate)
        {
            if (fd >= 0)
            {
                _ = Libc.Close(fd);
                fd = -1;
            }
        }
    }

    /// <summary>At the limit: under an exclusive flock on the file, shift the old files and begin a new one, unless
    /// another process rolled it first (then only reopen the new file).</summary>
    private void RollIfFull()
    {
        if (fd < 0 || Libc.Seek(fd, 0, SeekEnd) < sizeLimit)
        {
            return;
        }

        _ = Libc.Flock(fd, LockExclusive);
        try
        {
            if (new FileInfo(path) is { Exists: true } current && current.Length >= sizeLimit)
            {
                for (var n = retainedFiles - 1; n >= 1; n--)
                {
                    var older = $"{path}.{n}";
                    if (File.Exists(older))
                    {
                        File.Move(older, $"{path}.{n + 1}", overwrite: true);
                    }
                }

                File.Delete($"{path}.{retainedFiles}");
                File.Move(path, $"{path}.1", overwrite: true);
            }
        }
        catch (IOException)
        {
            // Another process is rolling the same files; it will finish the job.
        }
        finally
        {
            var old = fd;
            fd = TryOpenAppend(path);
            _ = Libc.Close(old); // also drops the flock
        }
    }

    private static int OpenAppend(string path) =>
        TryOpenAppend(path) is var fd and >= 0
            ? fd
            : throw new IOException($"cannot open {path}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");

    private static int TryOpenAppend(string path) => Libc.Open(path, OpenFlags, CreateMode);

    // O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC (x86-64 and arm64 Linux values).
    private const int OpenFlags = 0x1 | 0x40 | 0x400 | 0x80000;
    private const int CreateMode = 0x1A0; // 0640
    private const int SeekEnd = 2;
    private const int LockExclusive = 2;
}
