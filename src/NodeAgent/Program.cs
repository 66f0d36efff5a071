namespace BranchEni.Agent;

/// <summary>The agent's entry point. `run` and the debug commands arrive with their issues; until then it says so.</summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        Console.Error.WriteLine($"branch-eni-agent: '{string.Join(' ', args)}' is not available in this build (the agent is not built yet)");
        return 2;
    }
}
