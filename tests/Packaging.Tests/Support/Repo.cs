using System.Diagnostics;

namespace BranchEni.Packaging.Tests.Support;

/// <summary>Where the repository and its packaging/ folder are, and a small process runner.</summary>
internal static class Repo
{
    public static string Root { get; } = FindRoot();

    public static string Packaging => Path.Combine(Root, "packaging");

    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    public static string Read(params string[] parts) => File.ReadAllText(PathOf(parts));

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Cni.sln")) && Directory.Exists(Path.Combine(dir.FullName, "packaging")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no repository root (Cni.sln + packaging/) above {AppContext.BaseDirectory}");
    }

    /// <summary>Runs a program to completion; a non-zero exit is an exception carrying its stderr.</summary>
    public static string Run(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        using var p = Process.Start(start)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {p.ExitCode}: {stderr.Result}");
        }

        return stdout;
    }
}
