namespace BranchEni.Cni.ModelDriver;

/// <summary>Something done to the kernel behind the plugin's back, to prove the checker fails (the self-test).</summary>
internal enum Fault
{
    None,

    /// <summary>After a pod's second successful ADD of the run, delete the first rule of its model: an object missing.</summary>
    DropRuleOnSecondAdd,

    /// <summary>After the run's first removal of a live sandbox (DEL or GC), put a route back into its table: an object
    /// beyond the live models.</summary>
    LeaveRouteOnFirstRemoval,
}

/// <summary>What running a sequence came to: the first failure (null: none), and what ran.</summary>
internal sealed record RunOutcome(string? Failure, int FailedBatch, int Calls, int Checks, IReadOnlyList<string> History, RunTally Tally);

/// <summary>What the run exercised, for the summary: calls by kind and answer, concurrency, and which way the node
/// lock ordered the ADD || DEL races.</summary>
internal sealed class RunTally
{
    public Dictionary<string, int> Calls { get; } = [];

    public int ConcurrentBatches { get; set; }

    public int MostAtOnce { get; set; }

    public int SamePodRaces { get; set; }

    public int DelFirst { get; set; }

    public int AddFirst { get; set; }

    public int GcRemoved { get; set; }

    /// <summary>Calls of the sequence whose precondition did not hold when they ran: none in a drawn sequence (the
    /// generator follows the same state), some in a shortened replay.</summary>
    public int Skipped { get; set; }

    /// <summary>The DELs of the end, of the sandboxes still live after the sequence.</summary>
    public int FinalDels { get; set; }

    public TimeSpan CallTime { get; set; }

    public void Count(string what) => Calls[what] = Calls.GetValueOrDefault(what) + 1;

    public override string ToString() =>
        string.Join(" ", Calls.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key}={c.Value}")) +
        $" gc-removed={GcRemoved} skipped={Skipped} final-dels={FinalDels} concurrent-batches={ConcurrentBatches} most-at-once={MostAtOnce} same-pod-races={SamePodRaces}" +
        $" add||del-lock-order: del-first={DelFirst} add-first={AddFirst}" +
        $" mean-call={CallTime.TotalMilliseconds / Math.Max(1, Calls.Values.Sum()):0}ms";
}
