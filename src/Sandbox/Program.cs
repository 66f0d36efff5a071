namespace BranchEni.Sandbox;

/// <summary>The sandbox's entry point; the emulators arrive with their issue.</summary>
internal static class Program
{
    private static int Main()
    {
        Console.Error.WriteLine("branch-eni-sandbox: the emulators are not built yet");
        return 2;
    }
}
