using System.Diagnostics;
using System.Globalization;
using BranchEni.Cni.ModelDriver;

// R2 (issue 18): seeded random ADD/DEL/CHECK/GC against the published plugin, the kernel compared with the union of the
// live models after every batch. Runs as root inside the micro-VM.
//   run BINARY OPS [selftest missing|extra]
// The seed is BRANCH_ENI_R2_SEED (default 18), printed first. `selftest missing` deletes a rule behind the plugin's back
// after a pod's second ADD, `selftest extra` puts a route back into a table after the first removal of a sandbox: the
// run must fail and shrink to the calls that show it (ADD, removal, ADD; a lone ADD, whose removal is the closing DEL).
// Prints "R2 PASS seed=.. ops=.." or "R2 FAIL", "SEED=..", the failing sequence and the shrunk one; exit 0 on PASS
// (a self-test: on FAIL).
var fault = args switch
{
    ["run", _, _] => Fault.None,
    ["run", _, _, "selftest", "missing"] => Fault.DropRuleOnSecondAdd,
    ["run", _, _, "selftest", "extra"] => Fault.LeaveRouteOnFirstRemoval,
    _ => (Fault?)null,
};
if (fault is null)
{
    Console.Error.WriteLine("usage: run BINARY OPS [selftest missing|extra]");
    return 2;
}

var (binary, opsText) = (args[1], args[2]);

var seed = Environment.GetEnvironmentVariable("BRANCH_ENI_R2_SEED") is { Length: > 0 } s ? int.Parse(s, CultureInfo.InvariantCulture) : 18;
var operations = int.Parse(opsText, CultureInfo.InvariantCulture);
var selfTest = fault != Fault.None;
var label = selfTest ? $"R2 SELFTEST-{args[4].ToUpperInvariant()}" : "R2";
Console.WriteLine($"{label} SEED={seed} ops={operations}");

var random = new Random(seed);
var pods = PodSpec.Draw(random, 20);
var batches = new SequenceGenerator(random, pods).Generate(operations);
foreach (var pod in pods)
{
    Console.WriteLine($"{label} pod {pod.Describe()}");
}

var clock = Stopwatch.StartNew();
var outcome = await new SequenceRun(binary, pods, fault.Value).ExecuteAsync(batches);
var elapsed = clock.Elapsed.TotalSeconds;
if (outcome.Failure is null)
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{label} PASS seed={seed} ops={batches.Sum(b => b.Ops.Count)} batches={batches.Count} calls={outcome.Calls} checks={outcome.Checks} " +
        $"elapsed={elapsed:0.0}s ops/s={outcome.Calls / elapsed:0.00}"));
    Console.WriteLine($"{label} exercised: {outcome.Tally}");
    return selfTest ? 1 : 0;
}

Console.WriteLine($"{label} FAIL seed={seed} at batch {outcome.FailedBatch + 1} of {batches.Count} after {elapsed:0.0}s: {outcome.Failure}");
Console.WriteLine($"SEED={seed}");
Console.WriteLine($"{label} failing sequence (as run):");
foreach (var line in outcome.History)
{
    Console.WriteLine("  " + line);
}

var budget = TimeSpan.FromSeconds(selfTest ? 90 : 180);
var shrinker = new Shrinker(sequence => new SequenceRun(binary, pods, fault.Value).ExecuteAsync(sequence), budget, Console.Out);
var (shortest, shortOutcome) = await shrinker.ShrinkAsync(batches, outcome);
var calls = shortest.Sum(b => b.Ops.Count);
Console.WriteLine($"{label} SHRUNK seed={seed} to {calls} calls in {shrinker.Replays} replays:");
foreach (var batch in shortest)
{
    Console.WriteLine("  " + batch);
}

Console.WriteLine($"{label} shortest failure: {shortOutcome.Failure}");
Console.WriteLine($"{label} shortest sequence as run:");
foreach (var line in shortOutcome.History)
{
    Console.WriteLine("  " + line);
}

return selfTest ? 0 : 1;
