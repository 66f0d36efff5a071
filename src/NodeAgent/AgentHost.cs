using BranchEni.Agent.Configuration;

namespace BranchEni.Agent;

/// <summary>Wires the agent's parts together for `run`.</summary>
internal static class AgentHost
{
    public static Task<int> RunFromCommandLineAsync(AgentOptions options, CancellationToken cancellationToken)
    {
        var problems = options.Validate();
        foreach (var problem in problems)
        {
            Console.Error.WriteLine($"branch-eni-agent: {problem}");
        }

        return Task.FromResult(problems.Count == 0 ? 0 : 2);
    }
}
