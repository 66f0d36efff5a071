using System.Text.Json;
using BranchEni.Agent.Configuration;
using BranchEni.Contracts;

namespace BranchEni.Agent.Cli;

/// <summary>
/// `verify [POD]`: every recorded pod (or the one named) against the kernel, plus without POD the node itself
/// (trunk, CNI install, forwarding, strict local rule, orphans). One line per difference; exit 1 when any.
/// </summary>
internal static class VerifyCommand
{
    public static int Run(CliSettings settings, string? podArgument, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        var node = NodeSnapshot.Capture(settings);
        var (mode, source) = node.NodeMode();
        var pods = node.Pods;
        if (podArgument is not null)
        {
            if (Select(node, podArgument, out var problem) is not { } selected)
            {
                error.WriteLine($"branch-eni-agent verify: {problem}");
                return ExitCodes.Usage;
            }

            pods = [selected];
        }

        var differences = Check(settings, node, mode, pods).SelectMany(f => f.Differences.Select(d => new Difference(f.Pod.Display, f.Pod.Uid, d))).ToList();
        if (podArgument is null)
        {
            differences.AddRange(NodeChecks.Run(node, mode, OrphanPlan.For(node)).Select(d => new Difference(null, null, d)));
        }

        var one = pods.Count == 1 && podArgument is not null ? pods[0] : null;
        var report = new VerifyReport(one?.Display, PodVerifier.Name(mode), source, pods.Count, differences.Count == 0, differences,
            one?.Branch?.MetadataAccess.ToString());
        if (settings.Output == OutputFormat.Json)
        {
            output.WriteLine(JsonSerializer.Serialize(report, CliJsonContext.Default.VerifyReport));
        }
        else
        {
            foreach (var d in differences)
            {
                output.WriteLine($"{d.Pod ?? "node"}: {d.Message}");
            }

            if (one?.Branch is { } branch)
            {
                output.WriteLine($"{one.Display}: metadata access {branch.MetadataAccess} (record)");
            }

            output.WriteLine(differences.Count == 0
                ? $"verify: OK ({pods.Count} pods, {report.Mode} mode from {source})"
                : $"verify: {differences.Count} differences ({pods.Count} pods, {report.Mode} mode from {source})");
        }

        return differences.Count == 0 ? ExitCodes.Ok : ExitCodes.Differences;
    }

    /// <summary>Every pod's findings; the namespace scan runs once, and only when some pod has a host veth.</summary>
    internal static List<PodFindings> Check(CliSettings settings, NodeSnapshot node, EnforcingMode mode, IEnumerable<RecordedPod> pods)
    {
        PodNamespaces? scanned = null;
        var verifier = new PodVerifier(node, mode, () => scanned ??= PodNamespaces.Scan(settings.NodeNetns));
        return pods.Select(verifier.Check).ToList();
    }

    /// <summary>POD is "namespace/name", a pod UID, or a name that only one record has.</summary>
    internal static RecordedPod? Select(NodeSnapshot node, string text, out string? problem)
    {
        problem = null;
        var matches = node.Pods.Where(p => p.Display == text || p.Uid == text).ToList();
        if (matches.Count == 0 && !text.Contains('/', StringComparison.Ordinal))
        {
            matches = node.Pods.Where(p => p.Record?.PodName == text).ToList();
        }

        if (matches.Count == 1)
        {
            return matches[0];
        }

        problem = matches.Count == 0
            ? $"no pod record matches '{text}' in {node.StateDir}/pods (give namespace/name or the pod UID)"
            : $"'{text}' matches {matches.Count} records: {string.Join(", ", matches.Select(m => m.Display))}; give namespace/name";
        return null;
    }
}
