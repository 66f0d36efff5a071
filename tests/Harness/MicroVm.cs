using System.Diagnostics;
using System.Text;

namespace BranchEni.Testing;

/// <summary>
/// Runs a bash script as root inside a micro-VM (Debian kernel under qemu TCG) that has what this machine's kernel
/// lacks: 802.1Q, and nftables with conntrack. The VM sees this machine's root read-only at the same paths, so built
/// binaries run there unchanged; /tmp and /run are fresh. Files passed in <see cref="MicroVmJob.Files"/> appear in the
/// script's working directory (/run/job), which is also where it may write results.
/// </summary>
/// <remarks>
/// One implementation of the VM: this class drives tools/microvm/run.sh, which the demo uses too. A VM that does not
/// boot or does not finish is an exception carrying the console log, never a skipped test.
/// </remarks>
public static class MicroVm
{
    /// <summary>Default per-job limit; generous because CI may boot two VMs on two cores at once.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(240);

    private static readonly string JobsRoot =
        Environment.GetEnvironmentVariable("BRANCH_ENI_VM_JOBS") is { Length: > 0 } dir ? dir : "/var/tmp/branch-eni-vm-jobs";

    public static Task<MicroVmResult> RunAsync(string script, CancellationToken cancellationToken = default) =>
        RunAsync(new MicroVmJob(script), cancellationToken);

    public static async Task<MicroVmResult> RunAsync(MicroVmJob job, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        var jobDir = Path.Combine(JobsRoot, $"{DateTime.UtcNow:yyyyMMddHHmmss}-{Guid.NewGuid():N}"[..30]);
        Directory.CreateDirectory(jobDir);
        try
        {
            await File.WriteAllTextAsync(Path.Combine(jobDir, "job.sh"), job.Script, cancellationToken).ConfigureAwait(false);
            foreach (var (name, content) in job.Files)
            {
                await File.WriteAllBytesAsync(Path.Combine(jobDir, name), content, cancellationToken).ConfigureAwait(false);
            }

            var timeout = job.Timeout ?? DefaultTimeout;
            var runner = Path.Combine(RepoPaths.Root, "tools", "microvm", "run.sh");
            var psi = new ProcessStartInfo(runner)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
                UseShellExecute = false,
            };
            psi.ArgumentList.Add(jobDir);
            psi.ArgumentList.Add(((int)Math.Ceiling(timeout.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture));

            using var process = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {runner}");
            process.StandardInput.Close();
            var relayedOut = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var relayedErr = process.StandardError.ReadToEndAsync(cancellationToken);
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            var runnerErr = await relayedErr.ConfigureAwait(false);
            _ = await relayedOut.ConfigureAwait(false);

            var console = ReadIfExists(Path.Combine(jobDir, "console.log"));
            var rcText = ReadIfExists(Path.Combine(jobDir, "rc")).Trim();
            if (process.ExitCode == 125 || rcText.Length == 0)
            {
                throw new MicroVmException(
                    $"the micro-VM gave no result (timeout {timeout.TotalSeconds:0}s, boot or module failure)\n{runnerErr}", console);
            }

            return new MicroVmResult(
                int.Parse(rcText, System.Globalization.CultureInfo.InvariantCulture),
                ReadIfExists(Path.Combine(jobDir, "stdout")),
                ReadIfExists(Path.Combine(jobDir, "stderr")),
                console,
                job.KeepOutputs.ToDictionary(name => name, name => ReadIfExists(Path.Combine(jobDir, name))));
        }
        finally
        {
            if (Environment.GetEnvironmentVariable("BRANCH_ENI_VM_KEEP_JOBS") != "1")
            {
                Directory.Delete(jobDir, recursive: true);
            }
        }
    }

    private static string ReadIfExists(string path) => File.Exists(path) ? File.ReadAllText(path, Encoding.UTF8) : "";
}

/// <summary>What to run: the script (bash, working directory /run/job), input files placed beside it, and the names of
/// files the script writes there that the caller wants back.</summary>
public sealed record MicroVmJob(string Script)
{
    public IReadOnlyDictionary<string, byte[]> Files { get; init; } = new Dictionary<string, byte[]>();

    public IReadOnlyList<string> KeepOutputs { get; init; } = [];

    public TimeSpan? Timeout { get; init; }
}

/// <summary>The job's exit status and output, plus the VM console for diagnostics.</summary>
public sealed record MicroVmResult(
    int ExitCode, string Stdout, string Stderr, string ConsoleLog, IReadOnlyDictionary<string, string> Outputs)
{
    /// <summary>Throws with everything a person needs when the script did not exit 0.</summary>
    public MicroVmResult EnsureSuccess()
    {
        if (ExitCode != 0)
        {
            throw new MicroVmException($"the job exited {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}", ConsoleLog);
        }

        return this;
    }
}

/// <summary>The VM did not give a usable result; the message ends with the console log.</summary>
public sealed class MicroVmException(string message, string consoleLog)
    : Exception($"{message}\n--- VM console\n{consoleLog}")
{
    public string ConsoleLog { get; } = consoleLog;
}
