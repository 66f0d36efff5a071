using System.Globalization;

namespace BranchEni.Cni.ModelDriver;

internal enum OpKind
{
    /// <summary>ADD of a new sandbox of a pod that has none live.</summary>
    Add,

    /// <summary>DEL of the pod's newest sandbox (with or without prevResult).</summary>
    Del,

    /// <summary>DEL of the sandbox before the newest, retried late by a runtime: it must not touch the newest.</summary>
    DelStale,

    /// <summary>CHECK of the newest sandbox: passes while it is live, fails once it is gone.</summary>
    Check,

    /// <summary>GC (1.1.0) whose valid attachments leave out <see cref="Op.Victims"/>.</summary>
    Gc,
}

/// <summary>One CNI call of the sequence, in terms of the test's pods (numbers 1..20); which container id it names is
/// decided when it runs, from the sandboxes made so far, so any subsequence of a sequence can be replayed.</summary>
internal sealed record Op(OpKind Kind, int Pod, bool WithPrevResult = true, IReadOnlyList<int>? Victims = null)
{
    public override string ToString() => Kind switch
    {
        OpKind.Gc => $"GC without [{string.Join(",", (Victims ?? []).Select(v => "p" + v.ToString(CultureInfo.InvariantCulture)))}]",
        OpKind.Check => $"CHECK p{Pod}",
        OpKind.Add => $"ADD p{Pod}",
        _ => $"{(Kind == OpKind.Del ? "DEL" : "DEL-stale")} p{Pod}{(WithPrevResult ? "" : " (no prevResult)")}",
    };
}

/// <summary>CNI calls started together: each its own process, racing for the node lock (CHECK takes none).</summary>
internal sealed record Batch(int Number, IReadOnlyList<Op> Ops)
{
    public override string ToString() =>
        $"#{Number.ToString(CultureInfo.InvariantCulture)}: " + (Ops.Count == 1 ? Ops[0].ToString() : "{ " + string.Join(" || ", Ops) + " }");
}

/// <summary>
/// Draws the seeded sequence of batches. It follows the state the model predicts, so every drawn call is one a runtime
/// could make: ADD only for a pod with no live sandbox, CHECK only where the version has it. Concurrency inside a
/// batch is on distinct pods, with three exceptions whose legal outcomes are defined: DEL || DEL of one sandbox (both
/// succeed, it is gone), CHECK || CHECK (both pass), and ADD || DEL without prevResult of the new sandbox (both succeed;
/// whichever got the node lock first, the kernel must show exactly the model of that order). After such a race the
/// generator does not know whether the sandbox lives, so it only deletes that pod next. CHECK is never raced with an
/// ADD or DEL of its own pod: it takes no lock, so no order is defined for it. A GC's victims are not touched by other
/// calls of its batch, and the pods ADDed beside it are among its valid attachments (a runtime never GCs an attachment
/// it is creating).
/// </summary>
internal sealed class SequenceGenerator(Random random, IReadOnlyList<PodSpec> pods)
{
    private enum Predicted
    {
        NeverAdded,
        Live,
        Gone,
        Unknown,
    }

    private readonly Predicted[] state = Enumerable.Repeat(Predicted.NeverAdded, pods.Count + 1).ToArray();
    private readonly int[] sandboxes = new int[pods.Count + 1];

    public IReadOnlyList<Batch> Generate(int operations)
    {
        var batches = new List<Batch>();
        var total = 0;
        while (total < operations)
        {
            var size = Math.Min(operations - total, random.Next(100) switch { < 35 => 1, < 65 => 2, < 85 => 3, _ => 4 });
            var ops = NextBatch(size);
            batches.Add(new Batch(batches.Count + 1, ops));
            total += ops.Count;
        }

        return batches;
    }

    private List<Op> NextBatch(int size)
    {
        var ops = new List<Op>();
        var used = new HashSet<int>();
        var gc = false;
        for (var attempts = 0; ops.Count < size && attempts < 50; attempts++)
        {
            if (size - ops.Count >= 2 && random.Next(100) < 12 && Pair() is { } pair)
            {
                if (used.Add(pair[0].Pod))
                {
                    ops.AddRange(pair);
                }

                continue;
            }

            var kind = random.Next(100) switch { < 30 => OpKind.Add, < 55 => OpKind.Del, < 82 => OpKind.Check, < 90 => OpKind.DelStale, _ => OpKind.Gc };
            if (kind == OpKind.Gc)
            {
                if (!gc)
                {
                    gc = true;
                    var collect = Gc(used);
                    ops.Add(collect);
                    used.UnionWith(collect.Victims!);
                }

                continue;
            }

            var pod = random.Next(1, pods.Count + 1);
            if (!used.Contains(pod) && Allowed(kind, pod))
            {
                used.Add(pod);
                ops.Add(new Op(kind, pod, WithPrevResult: random.Next(4) != 0));
            }
        }

        foreach (var op in ops)
        {
            Apply(op, ops);
        }

        return ops;
    }

    private bool Allowed(OpKind kind, int pod) => (kind, state[pod]) switch
    {
        (OpKind.DelStale, _) => sandboxes[pod] >= 2,
        (_, Predicted.Unknown) => kind == OpKind.Del,
        (OpKind.Add, var s) => s is Predicted.NeverAdded or Predicted.Gone,
        (OpKind.Del, var s) => s == Predicted.Live || (s == Predicted.Gone && random.Next(3) == 0),
        (OpKind.Check, var s) => pods[pod - 1].Checkable && (s == Predicted.Live || (s == Predicted.Gone && random.Next(3) == 0)),
        _ => false,
    };

    /// <summary>Two calls on one pod at once, of the three kinds whose outcome is defined.</summary>
    private Op[]? Pair()
    {
        var pod = random.Next(1, pods.Count + 1);
        return state[pod] switch
        {
            Predicted.NeverAdded or Predicted.Gone => [new Op(OpKind.Add, pod), new Op(OpKind.Del, pod, WithPrevResult: false)],
            Predicted.Live when random.Next(2) == 0 && pods[pod - 1].Checkable => [new Op(OpKind.Check, pod), new Op(OpKind.Check, pod)],
            Predicted.Live => [new Op(OpKind.Del, pod), new Op(OpKind.Del, pod, WithPrevResult: random.Next(2) == 0)],
            _ => null,
        };
    }

    /// <summary>A GC whose valid attachments leave out about a third of the live pods not otherwise in the batch.</summary>
    private Op Gc(HashSet<int> used)
    {
        var candidates = Enumerable.Range(1, pods.Count).Where(p => state[p] == Predicted.Live && !used.Contains(p)).ToList();
        var victims = candidates.Where(_ => random.Next(3) == 0).ToList();
        return new Op(OpKind.Gc, 0, Victims: victims);
    }

    private void Apply(Op op, List<Op> batch)
    {
        switch (op.Kind)
        {
            case OpKind.Add:
                sandboxes[op.Pod]++;
                state[op.Pod] = batch.Any(o => o.Kind == OpKind.Del && o.Pod == op.Pod) ? Predicted.Unknown : Predicted.Live;
                break;
            case OpKind.Del when !batch.Any(o => o.Kind == OpKind.Add && o.Pod == op.Pod):
                state[op.Pod] = Predicted.Gone;
                break;
            case OpKind.Gc:
                foreach (var victim in op.Victims!)
                {
                    state[victim] = Predicted.Gone;
                }

                break;
        }
    }
}
