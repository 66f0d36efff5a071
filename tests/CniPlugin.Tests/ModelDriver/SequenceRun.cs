using System.Globalization;
using System.Net.NetworkInformation;
using System.Text.Json;
using BranchEni.Contracts;
using BranchEni.Netlink;

namespace BranchEni.Cni.ModelDriver;

/// <summary>
/// Runs a sequence of batches on a fresh <see cref="Node"/> and checks after every batch: each call's answer is the
/// legal one, and the node is exactly the union of the live sandboxes' models (<see cref="UnionCheck"/>), with the pod
/// namespaces of the pods the batch touched checked too. A call whose precondition no longer holds (in a shortened
/// replay: ADD of a pod that is live, CHECK of a pod never added, a stale DEL without an older sandbox) is left out.
/// The run ends with a DEL of every live sandbox, after which nothing of ours may be left.
/// </summary>
internal sealed class SequenceRun(string binary, IReadOnlyList<PodSpec> pods, Fault fault)
{
    private readonly PodState[] state = pods.Select(_ => new PodState()).ToArray();
    private readonly List<string> history = [];
    private readonly RunTally tally = new();
    private bool removedOnce;
    private int calls;
    private int checks;

    public async Task<RunOutcome> ExecuteAsync(IReadOnlyList<Batch> batches)
    {
        using var node = new Node(binary, pods);
        for (var i = 0; i < batches.Count; i++)
        {
            if (await StepAsync(node, batches[i]).ConfigureAwait(false) is { } failure)
            {
                return new RunOutcome(failure + "\n" + node.LogTail(30), i, calls, checks, history, tally);
            }
        }

        // The end: every live sandbox deleted, four at a time; then nothing of ours may be left.
        var live = Enumerable.Range(1, pods.Count).Where(p => state[p - 1].Live).ToList();
        foreach (var chunk in live.Chunk(4))
        {
            var batch = new Batch(0, chunk.Select(p => new Op(OpKind.Del, p)).ToList());
            if (await StepAsync(node, batch).ConfigureAwait(false) is { } failure)
            {
                return new RunOutcome("at the final DEL of everything: " + failure, batches.Count, calls, checks, history, tally);
            }
        }

        var left = UnionCheck.Differences(new NodeSnapshot(node.Handle), []);
        checks++;
        return left.Count > 0
            ? new RunOutcome("after the final DEL of everything the node still has:\n  " + string.Join("\n  ", left), batches.Count, calls, checks, history, tally)
            : new RunOutcome(null, -1, calls, checks, history, tally);
    }

    private async Task<string?> StepAsync(Node node, Batch batch)
    {
        var planned = Plan(node, batch);
        if (batch.Number == 0)
        {
            tally.FinalDels += planned.Count;
        }
        else
        {
            tally.Skipped += batch.Ops.Count - planned.Count;
        }

        if (planned.Count == 0)
        {
            return null;
        }

        var answers = await Task.WhenAll(planned.Select(c => node.InvokeAsync(c.Command, c.Pod, c.ContainerId, c.Config))).ConfigureAwait(false);
        calls += planned.Count;
        Tally(planned, answers);
        var snapshot = new NodeSnapshot(node.Handle);
        var problems = new List<string>();
        for (var i = 0; i < planned.Count; i++)
        {
            if (Judge(planned[i], answers[i]) is { } wrong)
            {
                problems.Add($"{planned[i]}: {wrong}");
            }
        }

        var liveBefore = state.Select(p => p.Live).ToArray();
        var order = Apply(planned, answers, snapshot);
        history.Add($"{batch.Number.ToString(CultureInfo.InvariantCulture)}: {string.Join(" || ", planned)}{order}");
        if (problems.Count > 0)
        {
            return "wrong answer:\n  " + string.Join("\n  ", problems);
        }

        if (fault != Fault.None && InjectFault(node, planned, Enumerable.Range(1, pods.Count).Where(p => liveBefore[p - 1] && !state[p - 1].Live)))
        {
            snapshot = new NodeSnapshot(node.Handle);
        }

        var models = Enumerable.Range(1, pods.Count).Where(p => state[p - 1].Live).Select(Model).ToList();
        var differences = UnionCheck.Differences(snapshot, models);
        foreach (var pod in planned.SelectMany(c => c.Touched).Distinct())
        {
            differences.AddRange(PodSide(node, pod, snapshot));
        }

        checks++;
        return differences.Count > 0 ? "the node is not the union of the live models:\n  " + string.Join("\n  ", differences) : null;
    }

    /// <summary>The self-test's change behind the plugin's back; true when it made one.</summary>
    private bool InjectFault(Node node, List<Call> planned, IEnumerable<int> removed)
    {
        var injected = false;
        if (fault == Fault.DropRuleOnSecondAdd)
        {
            foreach (var call in planned.Where(c => c.Op.Kind == OpKind.Add && state[c.Op.Pod - 1].SuccessfulAdds == 2 && state[c.Op.Pod - 1].Live))
            {
                var rule = Model(call.Op.Pod).Rules[0];
                node.Handle.DeleteRule(rule);
                history.Add($"   FAULT: deleted {PlumbingText.Rule(rule)} behind the plugin's back");
                injected = true;
            }
        }
        else if (fault == Fault.LeaveRouteOnFirstRemoval && !removedOnce && removed.FirstOrDefault() is var pod and > 0)
        {
            var route = BranchPlumbing.DenyRouteOf(BranchKernelLayout.TableOf(pods[pod - 1].VlanId));
            node.Handle.AddRoute(route);
            history.Add($"   FAULT: put unreachable {route.Destination} table {route.Table} of p{pod} back behind the plugin's back");
            removedOnce = injected = true;
        }

        return injected;
    }

    private List<Call> Plan(Node node, Batch batch)
    {
        var planned = new List<Call>();
        var added = new HashSet<int>();
        // GC last: the pods ADDed beside it are among its valid attachments under their new sandbox ids.
        foreach (var op in batch.Ops.OrderBy(o => o.Kind == OpKind.Gc))
        {
            var spec = op.Pod > 0 ? pods[op.Pod - 1] : null;
            var pod = op.Pod > 0 ? state[op.Pod - 1] : null;
            switch (op.Kind)
            {
                case OpKind.Add when !pod!.Live:
                    pod.Sandboxes.Add(new Sandbox(spec!.ContainerId(pod.Sandboxes.Count + 1)));
                    added.Add(op.Pod);
                    planned.Add(new Call(op, spec, "ADD", pod.Newest!.Id, node.Config(spec.CniVersion, spec.Mode.ConfigName()), Expect.Success, [op.Pod]));
                    break;
                case OpKind.Del when pod!.Newest is { } newest:
                    // DEL racing the ADD of the same sandbox has no prevResult: the runtime has no result yet.
                    var prev = op.WithPrevResult && !added.Contains(op.Pod) ? newest.Answer?.ResultJson : null;
                    planned.Add(new Call(op, spec, "DEL", newest.Id, node.Config(spec!.CniVersion, spec.Mode.ConfigName(), prev), Expect.Success, [op.Pod]));
                    break;
                case OpKind.DelStale when pod!.Sandboxes.Count >= 2 && !added.Contains(op.Pod):
                    var stale = pod.Sandboxes[^2];
                    var stalePrev = op.WithPrevResult ? stale.Answer?.ResultJson : null;
                    planned.Add(new Call(op, spec, "DEL", stale.Id, node.Config(spec!.CniVersion, spec.Mode.ConfigName(), stalePrev), Expect.Success, [op.Pod]));
                    break;
                case OpKind.Check when spec!.Checkable && pod!.Newest?.Answer is { } answer && !added.Contains(op.Pod):
                    planned.Add(new Call(op, spec, "CHECK", pod.Newest.Id, node.Config(spec.CniVersion, spec.Mode.ConfigName(), answer.ResultJson),
                        pod.Live ? Expect.Success : Expect.Failure, []));
                    break;
                case OpKind.Gc:
                    var busy = batch.Ops.Where(o => o != op).Select(o => o.Pod).ToHashSet();
                    var victims = op.Victims!.Where(v => state[v - 1].Live && !busy.Contains(v)).ToList();
                    var valid = Enumerable.Range(1, pods.Count)
                        .Where(p => (state[p - 1].Live || added.Contains(p)) && !victims.Contains(p))
                        .Select(p => state[p - 1].Newest!.Id);
                    planned.Add(new Call(op with { Victims = victims }, null, "GC", null, node.Config("1.1.0", "strict", null, valid.ToList()), Expect.Success, victims));
                    break;
            }
        }

        return planned;
    }

    /// <summary>Whether the answer is a legal one for the call; null when it is.</summary>
    private static string? Judge(Call call, CniAnswer answer)
    {
        if (call.Expect == Expect.Failure)
        {
            return answer.ExitCode != 0 && ErrorCode(answer.Stdout) is > 0 ? null : $"should have failed, answered {answer}";
        }

        if (answer.ExitCode != 0)
        {
            return $"failed: {answer}";
        }

        if (call.Command != "ADD")
        {
            return answer.Stdout.Trim().Length == 0 ? null : $"printed {answer.Stdout.Trim()}";
        }

        var spec = call.Pod!;
        try
        {
            using var result = JsonDocument.Parse(answer.Stdout);
            var interfaces = result.RootElement.GetProperty("interfaces");
            var ip = result.RootElement.GetProperty("ips")[0].GetProperty("address").GetString();
            return interfaces.GetArrayLength() == 3 && interfaces[0].GetProperty("name").GetString() == spec.HostVeth
                && interfaces[2].GetProperty("name").GetString() == BranchKernelLayout.VlanLinkName(spec.VlanId) && ip == $"{spec.PodIp}/32"
                ? null
                : $"the result is not {spec.HostVeth}, eth0, vlan.eth.{spec.VlanId} with {spec.PodIp}/32: {answer.Stdout}";
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or IndexOutOfRangeException)
        {
            return $"unreadable result ({e.Message}): {answer.Stdout}";
        }
    }

    private static int? ErrorCode(string stdout)
    {
        try
        {
            using var error = JsonDocument.Parse(stdout);
            return error.RootElement.GetProperty("code").GetInt32();
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }

    /// <summary>Moves the model on by the batch's answers. An ADD raced by a DEL of its sandbox lives afterwards exactly
    /// when the DEL got the node lock first: its VLAN link, owned by the sandbox, says which (the union check then
    /// asks for all of that order's model and nothing more). Returns that order for the history.</summary>
    private string Apply(List<Call> planned, CniAnswer[] answers, NodeSnapshot snapshot)
    {
        var orders = "";
        for (var i = 0; i < planned.Count; i++)
        {
            var call = planned[i];
            var pod = call.Op.Pod > 0 ? state[call.Op.Pod - 1] : null;
            switch (call.Op.Kind)
            {
                case OpKind.Add when answers[i].ExitCode == 0:
                    pod!.Sandboxes[^1] = pod.Sandboxes[^1] with { Answer = AnswerOf(answers[i].Stdout) };
                    pod.SuccessfulAdds++;
                    if (planned.Any(c => c.Op.Kind == OpKind.Del && c.Op.Pod == call.Op.Pod))
                    {
                        pod.Live = snapshot.Link(BranchKernelLayout.VlanLinkName(pods[call.Op.Pod - 1].VlanId)) is { } vlan && vlan.Alias == call.ContainerId;
                        if (pod.Live)
                        {
                            tally.DelFirst++;
                            orders += $"  [lock order: DEL then ADD of p{call.Op.Pod}]";
                        }
                        else
                        {
                            tally.AddFirst++;
                            orders += $"  [lock order: ADD then DEL of p{call.Op.Pod}]";
                        }
                    }
                    else
                    {
                        pod.Live = true;
                    }

                    break;
                case OpKind.Del when !planned.Any(c => c.Op.Kind == OpKind.Add && c.Op.Pod == call.Op.Pod):
                    pod!.Live = false;
                    break;
                case OpKind.Gc:
                    tally.GcRemoved += call.Touched.Count;
                    foreach (var victim in call.Touched)
                    {
                        state[victim - 1].Live = false;
                    }

                    break;
            }
        }

        return orders;
    }

    private void Tally(List<Call> planned, CniAnswer[] answers)
    {
        for (var i = 0; i < planned.Count; i++)
        {
            var call = planned[i];
            var mode = call.Pod is { } pod ? "-" + pod.Mode.ConfigName() : "";
            var kind = call.Op.Kind == OpKind.DelStale ? "DEL-stale" : call.Command;
            tally.Count(kind + mode + (call.Expect == Expect.Failure ? "-must-fail" : ""));
            tally.CallTime += answers[i].Elapsed;
        }

        if (planned.Count > 1)
        {
            tally.ConcurrentBatches++;
            tally.MostAtOnce = Math.Max(tally.MostAtOnce, planned.Count);
            tally.SamePodRaces += planned.Where(c => c.Pod is not null).GroupBy(c => c.Op.Pod).Count(g => g.Count() > 1);
        }
    }

    private static AddAnswer AnswerOf(string resultJson)
    {
        using var result = JsonDocument.Parse(resultJson);
        var interfaces = result.RootElement.GetProperty("interfaces");
        return new AddAnswer(resultJson.Trim(), Mac(interfaces[0]), Mac(interfaces[1]));

        static PhysicalAddress? Mac(JsonElement entry) =>
            entry.TryGetProperty("mac", out var mac) && mac.GetString() is { } text ? PhysicalAddress.Parse(text.Replace(':', '-')) : null;
    }

    private BranchPlumbing Model(int pod)
    {
        var newest = state[pod - 1].Newest!;
        return pods[pod - 1].Model(newest.Id, newest.Answer!);
    }

    /// <summary>A touched pod's own namespace: the model's pod side while it lives, nothing but lo once it is gone.</summary>
    private IEnumerable<string> PodSide(Node node, int number, NodeSnapshot snapshot)
    {
        var spec = pods[number - 1];
        using var handle = NetlinkHandle.Open(node.PodNetns(spec));
        var links = handle.ListLinks();
        if (!state[number - 1].Live)
        {
            return links.Where(l => l.Name != "lo").Select(l => $"{spec.Name} is gone but its namespace still has {l.Name}").ToList();
        }

        var eth0 = links.FirstOrDefault(l => l.Name == "eth0");
        var model = Model(number);
        if (eth0 is null || snapshot.Link(model.HostVeth) is not { } hostVeth)
        {
            return [$"{spec.Name} lives but {(eth0 is null ? "its namespace lacks eth0" : "the node lacks " + model.HostVeth)}"];
        }

        return BranchPlumbingComparison.PodDifferences(model, handle, eth0, $"eth0 in {spec.Name}", hostVeth).Select(d => $"{model.ContainerId}: {d}").ToList();
    }

    private sealed class PodState
    {
        public List<Sandbox> Sandboxes { get; } = [];

        public Sandbox? Newest => Sandboxes.Count > 0 ? Sandboxes[^1] : null;

        public bool Live { get; set; }

        public int SuccessfulAdds { get; set; }
    }

    private sealed record Sandbox(string Id, AddAnswer? Answer = null);

    private enum Expect
    {
        Success,
        Failure,
    }

    /// <summary>One planned process: the op, the call it became, the answer it must give, the pods it changes.</summary>
    private sealed record Call(Op Op, PodSpec? Pod, string Command, string? ContainerId, string Config, Expect Expect, IReadOnlyList<int> Touched)
    {
        public override string ToString() => Op.Kind switch
        {
            OpKind.Gc => $"GC keeping the rest, removing [{string.Join(",", Touched.Select(v => "p" + v.ToString(CultureInfo.InvariantCulture)))}]",
            _ => $"{Op.ToString().Split(' ')[0]} {ContainerId}{(Op.WithPrevResult || Command != "DEL" ? "" : " (no prevResult)")}" +
                $"{(Expect == Expect.Failure ? " (must fail)" : "")} [{Pod!.CniVersion} {Pod.Mode.ConfigName()}]",
        };
    }
}
