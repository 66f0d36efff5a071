using BranchEni.Cni.Config;
using BranchEni.Cni.Protocol;
using BranchEni.Contracts;
using Serilog.Core;

namespace BranchEni.Cni.Selection;

/// <summary>
/// Decides whether a pod gets a branch ENI and which: the agent's node-local record for the pod UID first (fast, no
/// API), else the pod from the API when a kubeconfig is configured (its annotation, or a wait for it when the pod
/// requests the resource), else none (the pod is delegated).
/// </summary>
internal sealed class BranchSelector(PluginConfig config, CniArgs args, Logger log)
{
    public const string AnnotationKey = "vpc.amazonaws.com/pod-eni";

    /// <summary>The API reader: branch-eni-kube beside this binary, run only when the record does not decide.</summary>
    internal Func<string, IPodReader> PodReaderFactory { get; init; } = static kubeconfig => new ExecPodReader(ExecPodReader.Beside, kubeconfig);

    internal Action<TimeSpan> Sleep { get; init; } = Thread.Sleep;

    public BranchEniAssignment? Select()
    {
        var records = new NodeRecords(config.StateDir);
        if (args.PodUid is { } uid && FromRecord(records, uid) is { } fromRecord)
        {
            return fromRecord;
        }

        if (config.Kubeconfig is null || !args.HasPod)
        {
            return null;
        }

        var assignment = FromApi(PodReaderFactory(config.Kubeconfig));
        if (assignment is not null)
        {
            RefuseClashWithRecords(records, assignment);
        }

        return assignment;
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

        if ((args.PodNamespace is not null && record.PodNamespace != args.PodNamespace) || (args.PodName is not null && record.PodName != args.PodName))
        {
            throw new CniException(CniErrorCode.BranchEniRefused,
                $"{path}: podNamespace/podName {record.PodNamespace}/{record.PodName} disagree with CNI_ARGS {args.PodNamespace}/{args.PodName}");
        }

        log.Debug("branch ENI for {PodUid} from the node record", uid);
        return Parse(() => BranchEniParser.Parse(record), path);
    }

    private BranchEniAssignment? FromApi(IPodReader reader)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(config.AnnotationWaitSeconds);
        var delay = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            var pod = reader.Read(args.PodNamespace!, args.PodName!);
            if (args.PodUid is { } uid && pod.Uid != uid)
            {
                throw new CniException(CniErrorCode.BranchEniRefused,
                    $"pod {args.PodNamespace}/{args.PodName} has UID {pod.Uid}, not K8S_POD_UID {uid} (a stale sandbox)");
            }

            if (pod.Annotation is { Length: > 0 } annotation)
            {
                return Parse(() => BranchEniParser.ParseAnnotation(annotation), $"pod {args.PodNamespace}/{args.PodName} annotation {AnnotationKey}");
            }

            if (!pod.RequestsBranchEni)
            {
                return null;
            }

            if (DateTime.UtcNow + delay > deadline)
            {
                throw new CniException(CniErrorCode.TryAgainLater,
                    $"pod {args.PodNamespace}/{args.PodName} requests {AnnotationKey} but has no {AnnotationKey} annotation after {config.AnnotationWaitSeconds} s");
            }

            log.Debug("waiting {DelayMs} ms for the annotation of {Namespace}/{Pod}", delay.TotalMilliseconds, args.PodNamespace, args.PodName);
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
