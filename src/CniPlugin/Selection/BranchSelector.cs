using BranchEni.Cni.Config;
using BranchEni.Cni.Protocol;
using BranchEni.Contracts;
using BranchEni.Policy;
using Serilog.Core;

namespace BranchEni.Cni.Selection;

/// <summary>
/// Decides whether a pod gets a branch ENI and which, failing closed (DESIGN.md §1): the agent's record for the pod UID
/// first; else the agent's decision record (no branch: delegate; branch: wait for the record); else, when a kubeconfig
/// is configured, the API (the annotation, or whether a SecurityGroupPolicy selects the pod or it requests the
/// resource, decided by branch-eni-kube with the agent's matcher). A pod that must have a branch waits up to
/// annotationWaitSeconds and then gets error 11; it is never delegated. So is a pod nothing has decided yet.
/// </summary>
internal sealed class BranchSelector(PluginConfig config, CniArgs args, Logger log)
{
    /// <summary>The API reader: branch-eni-kube beside this binary, run only when no record decides.</summary>
    internal Func<string, IPodReader> PodReaderFactory { get; init; } = kubeconfig => ExecPodReader.Installed(kubeconfig, config);

    internal Action<TimeSpan> Sleep { get; init; } = Thread.Sleep;

    private string Pod => $"{args.PodNamespace}/{args.PodName}";

    public BranchEniAssignment? Select()
    {
        var records = new NodeRecords(config.StateDir);
        var uid = args.PodUid;
        if (uid is not null && FromRecord(records, uid) is { } fromRecord)
        {
            return fromRecord;
        }

        if (!args.HasPod)
        {
            // Not a Kubernetes pod (no K8S_POD_* in CNI_ARGS): no policy can select it.
            return null;
        }

        if (uid is not null && Decision(records, uid) is { Branch: { } branch } decision)
        {
            if (!branch)
            {
                log.Debug("no branch ENI for {Pod}: the agent decided so ({Reason})", Pod, decision.Reason);
                return null;
            }

            return WaitFor(decision.Reason ?? "the agent decided so", () => Decision(records, uid) is { Branch: false } ? (true, null) : (FromRecord(records, uid) is { } r ? (true, r) : (false, null)));
        }

        if (config.Kubeconfig is null)
        {
            throw new CniException(CniErrorCode.TryAgainLater,
                $"the agent has not yet decided whether pod {Pod} must have a branch ENI and no kubeconfig is configured to ask the API; not delegating it");
        }

        return FromApi(records, PodReaderFactory(config.Kubeconfig));
    }

    private BranchEniAssignment? FromRecord(NodeRecords records, string uid)
    {
        PodRecord? record;
        try
        {
            record = records.ReadPod(uid);
        }
        catch (InvalidDataException e)
        {
            throw new CniException(CniErrorCode.BranchEniRefused, $"the node record for pod {uid} is unreadable", e.Message);
        }

        if (record is null)
        {
            return null;
        }

        var path = records.PodPath(uid);
        if (record.PodUid != uid)
        {
            throw new CniException(CniErrorCode.BranchEniRefused, $"{path}: podUid '{record.PodUid}' is not the file's pod {uid}");
        }

        RequireSamePod(path, record.PodNamespace, record.PodName);
        log.Debug("branch ENI for {PodUid} from the node record", uid);
        return Parse(() => BranchEniParser.Parse(record), path);
    }

    /// <summary>The agent's decision, or null when there is none or it cannot be read (the API then decides).</summary>
    private PodDecision? Decision(NodeRecords records, string uid)
    {
        PodDecision? decision;
        try
        {
            decision = records.ReadDecision(uid);
        }
        catch (InvalidDataException e)
        {
            log.Warning("ignoring the unreadable decision record of pod {PodUid}: {Error}", uid, e.Message);
            return null;
        }

        if (decision is not null)
        {
            var path = records.DecisionPath(uid);
            if (decision.PodUid != uid)
            {
                throw new CniException(CniErrorCode.BranchEniRefused, $"{path}: podUid '{decision.PodUid}' is not the file's pod {uid}");
            }

            RequireSamePod(path, decision.PodNamespace, decision.PodName);
        }

        return decision;
    }

    private void RequireSamePod(string path, string? podNamespace, string? podName)
    {
        if ((args.PodNamespace is not null && podNamespace != args.PodNamespace) || (args.PodName is not null && podName != args.PodName))
        {
            throw new CniException(CniErrorCode.BranchEniRefused,
                $"{path}: podNamespace/podName {podNamespace}/{podName} disagree with CNI_ARGS {args.PodNamespace}/{args.PodName}");
        }
    }

    private BranchEniAssignment? FromApi(NodeRecords records, IPodReader reader)
    {
        string? reason = null;
        return WaitFor(() => reason ?? "it must have one", () =>
        {
            var pod = SamePod(reader.Read(args.PodNamespace!, args.PodName!), args);

            if (pod.Annotation is { Length: > 0 } annotation)
            {
                var assignment = Parse(() => BranchEniParser.ParseAnnotation(annotation), $"pod {Pod} annotation {PodEni.AnnotationKey}");
                RefuseClashWithRecords(records, assignment);
                return (true, assignment with { MetadataAccess = MetadataAccessOf(pod) });
            }

            if (!pod.NeedsBranch)
            {
                log.Debug("no branch ENI for {Pod}: {Reason}", Pod, pod.Reason);
                return (true, null);
            }

            reason = pod.Reason;
            return args.PodUid is { } id && FromRecord(records, id) is { } recorded ? (true, recorded) : (false, null);
        });
    }

    /// <summary>The pod the API answered, refused when it is not the sandbox's pod (K8S_POD_UID): a pod deleted and
    /// created again under its name has other security groups and another verdict.</summary>
    internal static PodFacts SamePod(PodFacts pod, CniArgs args) =>
        args.PodUid is { } uid && pod.Uid != uid
            ? throw new CniException(CniErrorCode.BranchEniRefused,
                $"pod {args.PodNamespace}/{args.PodName} has UID {pod.Uid}, not K8S_POD_UID {uid} (a stale sandbox)")
            : pod;

    /// <summary>The reader's verdict; anything but "Allowed" denies (fail closed: an older or garbled answer must not open
    /// IMDS to a pod the agent would deny).</summary>
    internal static MetadataAccess MetadataAccessOf(PodFacts pod) =>
        MetadataAccessPolicy.FromExactName(pod.MetadataAccess) ?? MetadataAccess.Denied;

    private BranchEniAssignment? WaitFor(string reason, Func<(bool Decided, BranchEniAssignment? Branch)> poll) => WaitFor(() => reason, poll);

    /// <summary>Polls with backoff (100 ms doubling to 1 s) until <paramref name="poll"/> decides; past
    /// annotationWaitSeconds the pod gets error 11 (kubelet retries the sandbox), never the delegate.</summary>
    private BranchEniAssignment? WaitFor(Func<string> reason, Func<(bool Decided, BranchEniAssignment? Branch)> poll)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(config.AnnotationWaitSeconds);
        var delay = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            var (decided, branch) = poll();
            if (decided)
            {
                return branch;
            }

            if (DateTime.UtcNow + delay > deadline)
            {
                throw new CniException(CniErrorCode.TryAgainLater,
                    $"pod {Pod} must have a branch ENI ({reason()}) but has no {PodEni.AnnotationKey} assignment after {config.AnnotationWaitSeconds} s; it is not given the node's networking");
            }

            log.Debug("waiting {DelayMs} ms for the branch ENI of {Pod}", delay.TotalMilliseconds, Pod);
            Sleep(delay);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(1).Ticks));
        }
    }

    /// <summary>An annotation can be forged or stale: it must not claim a VLAN or ENI the agent recorded for another pod.</summary>
    private void RefuseClashWithRecords(NodeRecords records, BranchEniAssignment assignment)
    {
        foreach (var (uid, record, _) in records.ListPods())
        {
            if (uid != args.PodUid && record is not null && (record.VlanId == assignment.VlanId || record.EniId == assignment.EniId))
            {
                throw new CniException(CniErrorCode.BranchEniRefused,
                    $"the annotation claims VLAN {assignment.VlanId} / {assignment.EniId}, which the node record gives to pod {record.PodNamespace}/{record.PodName} ({uid})");
            }
        }
    }

    private static BranchEniAssignment Parse(Func<BranchEniAssignment> parse, string source)
    {
        try
        {
            return parse();
        }
        catch (BranchEniFormatException e)
        {
            throw new CniException(CniErrorCode.BranchEniRefused, $"{source}: {e.Message}");
        }
    }
}

/// <summary>Reads a pod; the production one is <see cref="ExecPodReader"/>.</summary>
internal interface IPodReader
{
    PodFacts Read(string podNamespace, string podName);
}
