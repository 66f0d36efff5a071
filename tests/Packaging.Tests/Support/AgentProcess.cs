using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace BranchEni.Packaging.Tests.Support;

/// <summary>
/// The real `branch-eni-agent` executable (built next to the tests through the NodeAgent project reference), started
/// the way the DaemonSet starts it: its command's arguments and its environment.
/// </summary>
internal sealed partial class AgentProcess : IDisposable
{
    private readonly Process _process;

    private AgentProcess(Process process) => _process = process;

    /// <summary>The agent built next to the tests, or BRANCH_ENI_PACKAGING_AGENT: an image-like folder with the native
    /// AOT agent and the real CNI binary side by side (how the Dockerfile's runtime stage lays them out).</summary>
    public static string Executable =>
        Environment.GetEnvironmentVariable("BRANCH_ENI_PACKAGING_AGENT") is { Length: > 0 } staged ? staged : Path.Combine(AppContext.BaseDirectory, "branch-eni-agent");

    public ConcurrentQueue<string> Output { get; } = new();

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Every environment variable `run` reads, from its own --help ("Env: NAME.").</summary>
    public static IReadOnlySet<string> EnvNames()
    {
        var help = Repo.Run(Executable, "run", "--help");
        var names = EnvInHelp().Matches(help).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
        return names.Count > 0 ? names : throw new InvalidOperationException($"no 'Env: NAME.' in the help text:\n{help}");
    }

    [GeneratedRegex(@"Env: ([A-Z0-9_]+)\.")]
    private static partial Regex EnvInHelp();

    /// <summary>Starts the agent with <paramref name="args"/> and exactly <paramref name="env"/> for the variables it
    /// reads (inherited values of those are removed, so the test machine's environment cannot leak in).</summary>
    public static AgentProcess Start(IEnumerable<string> args, IReadOnlyDictionary<string, string> env, IReadOnlySet<string> agentVariables)
    {
        var start = new ProcessStartInfo(Executable) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        foreach (var name in agentVariables)
        {
            start.Environment.Remove(name);
        }

        foreach (var (name, value) in env)
        {
            start.Environment[name] = value;
        }

        var agent = new AgentProcess(Process.Start(start)!);
        agent._process.OutputDataReceived += (_, e) => agent.Keep(e.Data);
        agent._process.ErrorDataReceived += (_, e) => agent.Keep(e.Data);
        agent._process.BeginOutputReadLine();
        agent._process.BeginErrorReadLine();
        return agent;
    }

    private void Keep(string? line)
    {
        if (line is not null)
        {
            Output.Enqueue(line);
        }
    }

    public string Log => string.Join('\n', Output.TakeLast(60));

    /// <summary>SIGTERM, as kubelet stops a container; true when it exited within <paramref name="grace"/>.</summary>
    public async Task<bool> TerminateAsync(TimeSpan grace)
    {
        Repo.Run("kill", "-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var timeout = new CancellationTokenSource(grace);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
    }
}
