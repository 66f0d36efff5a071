using System.Text.RegularExpressions;
using Xunit.Abstractions;
using BranchEni.Testing;

namespace BranchEni.Cni.Tests.MicroVm;

/// <summary>
/// Issue 18's R2, the randomized model test, in the micro-VM (real 802.1Q) through the published binary: the ModelDriver
/// runs 1,000 seeded random ADD/DEL/CHECK/GC calls over 20 pods, up to four plugin processes at once (the node lock
/// in play), both enforcing modes, every CNI version, metadata access Allowed, Denied and absent, and after every batch
/// compares the node with the union of the live sandboxes' BranchPlumbing models; at the end it deletes everything
/// and nothing may be left. A failure prints its seed (BRANCH_ENI_R2_SEED reproduces it) and a shrunk sequence. The
/// same boot runs the driver's self-tests: a rule deleted and a route added behind the plugin's back must each be
/// caught and shrunk.
/// </summary>
public sealed partial class RandomModelMicroVmTests(ITestOutputHelper log)
{
    private const int Operations = 1000;

    [Fact]
    public async Task AThousandRandomCallsKeepTheNodeEqualToTheLiveModelsAndInjectedFaultsAreCaughtAndShrunk()
    {
        var binary = RepoPaths.RequireCniBinary();
        var driver = DriverPath();
        Assert.True(File.Exists(driver), $"the model driver is not built at {driver}");
        var seed = Environment.GetEnvironmentVariable("BRANCH_ENI_R2_SEED") is { Length: > 0 } s ? $"export BRANCH_ENI_R2_SEED={int.Parse(s, System.Globalization.CultureInfo.InvariantCulture)}\n" : "";
        var script = $"""
            set -u
            export HOME=/tmp DOTNET_CLI_HOME=/tmp DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
            {seed}dotnet exec '{driver}' run '{binary}' {Operations}
            echo "run exit $?"
            for fault in missing extra; do
              env -u BRANCH_ENI_R2_SEED dotnet exec '{driver}' run '{binary}' 40 selftest $fault
              echo "selftest $fault exit $?"
            done
            """;
        var result = await BranchEni.Testing.MicroVm.RunAsync(new MicroVmJob(script) { Timeout = TimeSpan.FromSeconds(900) });
        result.EnsureSuccess();
        var output = result.Stdout;
        // The seed, the counts and the timing belong in the test log of a passing run too.
        foreach (var line in output.Split('\n').Where(l => l.StartsWith("R2", StringComparison.Ordinal) && !l.Contains(" pod p", StringComparison.Ordinal)))
        {
            log.WriteLine(line);
        }

        Assert.Matches(@"^R2 SEED=\d+ ops=1000", output);
        var pass = PassLine().Match(output);
        Assert.True(pass.Success, $"R2 did not pass:\n{output}");
        Assert.True(int.Parse(pass.Groups["ops"].Value, System.Globalization.CultureInfo.InvariantCulture) >= Operations, pass.Value);
        // One check per batch that ran plus the final one: the property was looked at far more often than once.
        Assert.True(int.Parse(pass.Groups["checks"].Value, System.Globalization.CultureInfo.InvariantCulture) >= Operations / 4, pass.Value);
        Assert.Contains("run exit 0", output, StringComparison.Ordinal);
        // What was exercised: both modes, calls that must fail, GC removing pods, four processes at once, calls racing on
        // one pod with the node lock ordering ADD || DEL; and every drawn call ran (none skipped as impossible).
        var exercised = ExercisedLine().Match(output);
        Assert.True(exercised.Success, $"no summary of what ran:\n{output}");
        var tally = exercised.Value;
        foreach (var kind in new[] { "ADD-strict", "ADD-standard", "DEL-strict", "DEL-standard", "CHECK-strict", "CHECK-standard", "GC", "gc-removed" })
        {
            Assert.Matches($@" {kind}=[1-9]", tally);
        }

        Assert.Matches(@"CHECK-\w+-must-fail=[1-9]", tally);
        Assert.Contains(" skipped=0 ", tally, StringComparison.Ordinal);
        Assert.Contains(" most-at-once=4 ", tally, StringComparison.Ordinal);
        Assert.Matches(@" same-pod-races=[1-9]", tally);

        // The self-tests: the checker fails on an object missing and on one too many, prints the seed, and shrinks to
        // the calls that show it: ADD, removal, ADD (the rule dropped after a second ADD), and a lone ADD (the route put
        // back after the first removal, which the run's closing DEL of everything makes).
        foreach (var (fault, calls, problem, injected) in new[]
        {
            ("MISSING", 3, @"r2-p\d+-g\d+: rule prio \d+ .* is missing", "FAULT: deleted rule prio"),
            ("EXTRA", 1, @"extra route unreachable 169\.254\.169\.254/32 table \d+ that no live sandbox has", "FAULT: put unreachable 169.254.169.254/32"),
        })
        {
            Assert.Contains($"selftest {fault.ToLowerInvariant()} exit 0", output, StringComparison.Ordinal);
            Assert.Matches($@"R2 SELFTEST-{fault} FAIL seed=\d+ at batch \d+ .*: the node is not the union of the live models:\n\s+{problem}", output);
            var shrunk = new Regex($@"^R2 SELFTEST-{fault} SHRUNK seed=\d+ to (?<calls>\d+) calls in \d+ replays:$", RegexOptions.Multiline).Match(output);
            Assert.True(shrunk.Success, $"the {fault} self-test did not shrink:\n{output}");
            Assert.Equal(calls, int.Parse(shrunk.Groups["calls"].Value, System.Globalization.CultureInfo.InvariantCulture));
            var shortest = output[shrunk.Index..];
            Assert.Matches($@"shortest failure: (at the final DEL of everything: )?the node is not the union of the live models:\n\s+{problem}", shortest);
            Assert.Contains(injected, shortest, StringComparison.Ordinal);
        }

        Assert.Contains("\nSEED=18\n", output, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"^R2 PASS seed=\d+ ops=(?<ops>\d+) batches=\d+ calls=\d+ checks=(?<checks>\d+) elapsed=[\d.]+s ops/s=[\d.]+$", RegexOptions.Multiline)]
    private static partial Regex PassLine();

    [GeneratedRegex(@"^R2 exercised: .*$", RegexOptions.Multiline)]
    private static partial Regex ExercisedLine();

    /// <summary>The driver is built beside the tests in the same configuration (ModelDriver/bin/CONFIG/net10.0).</summary>
    private static string DriverPath()
    {
        var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
        return Path.Combine(RepoPaths.Root, "tests", "CniPlugin.Tests", "ModelDriver", "bin", testOutput.Parent!.Name, testOutput.Name,
            "BranchEni.CniPlugin.ModelDriver.dll");
    }
}
