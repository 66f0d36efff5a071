using System.CommandLine;
using BranchEni.Controller.Configuration;

namespace BranchEni.Controller;

/// <summary>The entry point: `branch-eni-controller run`.</summary>
internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        var parse = ControllerCommandLine.Build(ControllerHost.RunFromCommandLineAsync, Environment.GetEnvironmentVariable).Parse(args);
        // SIGTERM cancels run's token; the elector then hands its Lease back before the process exits.
        var code = await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(10) }).ConfigureAwait(false);
        return parse.Errors.Count > 0 ? 2 : code;
    }
}
