using System.CommandLine;
using BranchEni.Agent.Configuration;

namespace BranchEni.Agent;

/// <summary>The entry point: `branch-eni-agent run` (the daemon); debug commands are its siblings.</summary>
internal static class Program
{
    private static Task<int> Main(string[] args) =>
        AgentCommandLine.Build(AgentHost.RunFromCommandLineAsync, Environment.GetEnvironmentVariable)
            .Parse(args)
            // SIGTERM cancels `run`'s token; give in-flight EC2 operations their grace (Agent.ShutdownGrace) before exit.
            .InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(15) });
}
