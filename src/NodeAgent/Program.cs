using System.CommandLine;
using BranchEni.Agent.Cli;
using BranchEni.Agent.Configuration;
using BranchEni.Contracts;

namespace BranchEni.Agent;

/// <summary>The entry point: `branch-eni-agent run` (the daemon); the debug commands (status, pods, verify, cleanup)
/// are its siblings.</summary>
internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        var parse = AgentCommandLine.Build(AgentHost.RunFromCommandLineAsync, Environment.GetEnvironmentVariable,
                DebugCommands.Create(Environment.GetEnvironmentVariable, Dot1QVlanLink.Instance))
            .Parse(args);
        // SIGTERM cancels `run`'s token; give in-flight EC2 operations their grace (Agent.ShutdownGrace) before exit.
        var code = await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(15) })
            .ConfigureAwait(false);
        // An unknown flag or value is a usage error (2) for every command, as `run`'s own option errors are.
        return parse.Errors.Count > 0 ? ExitCodes.Usage : code;
    }
}
