using BranchEni.Testing;

namespace BranchEni.Cni.Tests;

/// <summary>Builds tools/libcni-driver (Debian's libcni, GOPATH mode) once per test run, outside /tmp so the
/// micro-VM (which sees the host root read-only, with a fresh /tmp) can run it too.</summary>
public static class LibcniDriver
{
    private static readonly Lazy<string> Built = new(() =>
    {
        var output = $"/var/tmp/branch-eni-libcni-driver-{Environment.ProcessId}";
        Shell.Run($"{Path.Combine(RepoPaths.Root, "tools", "libcni-driver", "build.sh")} {output}");
        AppDomain.CurrentDomain.ProcessExit += (_, _) => File.Delete(output);
        return output;
    });

    public static string Build() => Built.Value;
}
