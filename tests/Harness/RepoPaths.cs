namespace BranchEni.Testing;

/// <summary>Where the repository and its built artifacts are, found from the test assembly's location.</summary>
public static class RepoPaths
{
    private static readonly Lazy<string> RootLazy = new(FindRoot);

    public static string Root => RootLazy.Value;

    /// <summary>The published native CNI binary; the test command publishes it before running the tests.</summary>
    public static string CniBinary =>
        Environment.GetEnvironmentVariable("BRANCH_ENI_CNI_BIN") is { Length: > 0 } overridden
            ? overridden
            : Path.Combine(Root, "artifacts", "bin", "branch-eni");

    /// <summary>Fails (never skips) when the binary is missing: every tier runs in CI.</summary>
    public static string RequireCniBinary()
    {
        var path = CniBinary;
        if (!File.Exists(path))
        {
            throw new FileNotFoundException(
                $"the native CNI binary is not at {path}; ./test.sh publishes it (dotnet publish src/CniPlugin -c Release -o artifacts/bin)");
        }

        return path;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Cni.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no Cni.sln above {AppContext.BaseDirectory}");
    }
}
