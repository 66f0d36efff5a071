using System.Diagnostics;

namespace BranchEni.Cni.ModelDriver;

/// <summary>
/// Finds a short sequence that still fails, by delta debugging (Zeller's ddmin) over the calls of a failing sequence,
/// each candidate replayed from a fresh node. Calls keep the batch they were drawn in, so what raced still races.
/// Two cheap steps first: cut everything after the failing batch, then keep only the calls on the pods of the failing
/// batch (calls on other pods should not matter when the plugin keeps pods apart). Bounded by time: the shortest
/// failing sequence found so far is the answer.
/// </summary>
internal sealed class Shrinker(Func<IReadOnlyList<Batch>, Task<RunOutcome>> replay, TimeSpan budget, TextWriter progress)
{
    private readonly Stopwatch clock = Stopwatch.StartNew();

    public int Replays { get; private set; }

    public async Task<(IReadOnlyList<Batch> Sequence, RunOutcome Outcome)> ShrinkAsync(IReadOnlyList<Batch> failing, RunOutcome outcome)
    {
        var best = Flatten(failing.Take(outcome.FailedBatch + 1));
        var bestOutcome = outcome;
        var pods = failing.ElementAtOrDefault(outcome.FailedBatch)?.Ops.SelectMany(o => (o.Victims ?? []).Append(o.Pod)).Where(p => p > 0).Distinct().ToList() ?? [];
        // The pods of the failing batch together, then each alone.
        foreach (var only in pods.Count > 1 ? pods.Select(p => new[] { p }).Prepend([.. pods]) : pods.Select(p => new[] { p }))
        {
            if (clock.Elapsed < budget && await FailsAsync(Project(best, only)) is { } projected)
            {
                (best, bestOutcome) = projected;
            }
        }

        var n = 2;
        while (best.Count >= 2 && clock.Elapsed < budget)
        {
            var chunks = Split(best, n);
            var reduced = false;
            // Each chunk alone, then each complement (ddmin's two reductions).
            foreach (var candidate in chunks.Concat(n > 2 ? chunks.Select(c => best.Except(c).ToList()) : []))
            {
                if (clock.Elapsed >= budget)
                {
                    break;
                }

                if (await FailsAsync(candidate) is { } smaller)
                {
                    n = chunks.Contains(candidate) ? 2 : Math.Max(n - 1, 2);
                    (best, bestOutcome) = smaller;
                    reduced = true;
                    break;
                }
            }

            if (!reduced)
            {
                if (n >= best.Count)
                {
                    break;
                }

                n = Math.Min(n * 2, best.Count);
            }
        }

        return (Group(best), bestOutcome);
    }

    private async Task<(List<Numbered> Calls, RunOutcome Outcome)?> FailsAsync(List<Numbered> candidate)
    {
        Replays++;
        var outcome = await replay(Group(candidate)).ConfigureAwait(false);
        progress.WriteLine($"R2 replay {Replays}: {candidate.Count} calls -> {(outcome.Failure is null ? "passes" : "fails")} ({clock.Elapsed.TotalSeconds:0}s)");
        // A replay that fails keeps only its prefix up to the failing batch: what comes after cannot matter.
        return outcome.Failure is null ? null : (Flatten(Group(candidate).Take(outcome.FailedBatch + 1)), outcome);
    }

    /// <summary>The calls on <paramref name="pods"/> only: GCs that remove one of them, narrowed to those.</summary>
    private static List<Numbered> Project(List<Numbered> calls, int[] pods) => calls
        .Select(c => c.Op.Kind == OpKind.Gc ? new Numbered(c.Batch, c.Op with { Victims = c.Op.Victims!.Intersect(pods).ToList() }) : c)
        .Where(c => c.Op.Kind == OpKind.Gc ? c.Op.Victims!.Count > 0 : pods.Contains(c.Op.Pod))
        .ToList();

    private static List<List<Numbered>> Split(List<Numbered> calls, int n)
    {
        var chunks = new List<List<Numbered>>();
        for (var i = 0; i < n; i++)
        {
            var chunk = calls.Skip(calls.Count * i / n).Take((calls.Count * (i + 1) / n) - (calls.Count * i / n)).ToList();
            if (chunk.Count > 0)
            {
                chunks.Add(chunk);
            }
        }

        return chunks;
    }

    private static List<Numbered> Flatten(IEnumerable<Batch> batches) =>
        batches.SelectMany(b => b.Ops.Select(o => new Numbered(b.Number, o))).ToList();

    private static List<Batch> Group(IEnumerable<Numbered> calls) =>
        calls.GroupBy(c => c.Batch).Select(g => new Batch(g.Key, g.Select(c => c.Op).ToList())).ToList();

    /// <summary>A call and the batch it was drawn in (a reference: two equal calls are still two).</summary>
    private sealed class Numbered(int batch, Op op)
    {
        public int Batch { get; } = batch;

        public Op Op { get; } = op;
    }
}
