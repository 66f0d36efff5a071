using BranchEni.Testing;

namespace BranchEni.Bench;

/// <summary>Process start: `CNI_COMMAND=VERSION` of our native binary against Debian's Go CNI plugins.</summary>
internal static class StartupBench
{
    public static IEnumerable<Measurement> Run()
    {
        var ours = RepoPaths.RequireCniBinary();
        const string Stdin = "<<< '{\"cniVersion\":\"1.0.0\"}' > /dev/null";
        // /bin/true is the floor of a fork+exec from this loop: it is reported so the reader can subtract it.
        var commands = new[]
        {
            $"CNI_COMMAND=VERSION {ours} {Stdin}",
            $"CNI_COMMAND=VERSION /usr/lib/cni/vlan {Stdin}",
            $"CNI_COMMAND=VERSION /usr/lib/cni/ptp {Stdin}",
            "/bin/true",
        };
        var ms = ExecTimer.CompareMs(commands);
        yield return new Measurement("start (VERSION) vs Go vlan", ms[0], "Go vlan plugin", ms[1], AimRatio: null, AimAbsolute: null);
        yield return new Measurement("start (VERSION) vs Go ptp", ms[0], "Go ptp plugin", ms[2], AimRatio: null, AimAbsolute: null);
        yield return new Measurement("exec floor (/bin/true)", ms[3], "-", null, null, null);
        // The aim is the plugin's own start: bash's fork and exec, which the loop pays for any program, taken out of
        // both (the here-string stays in, so this errs against us).
        yield return new Measurement("start (VERSION), net of the exec floor", ms[0] - ms[3], "Go vlan, net", ms[1] - ms[3],
            AimRatio: null, AimAbsolute: 2.0);
    }
}
