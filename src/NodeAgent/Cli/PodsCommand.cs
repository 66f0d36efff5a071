using System.Globalization;
using System.Text.Json;
using BranchEni.Contracts;

namespace BranchEni.Agent.Cli;

/// <summary>
/// `pods`: one row per branch pod: each record, checked against the kernel (as `verify POD` does) and, when
/// KUBECONFIG is given and the API answers, against the pod's annotation; then one row per VLAN link that has no live
/// owner (what `cleanup` would remove).
/// </summary>
internal static class PodsCommand
{
    public static async Task<int> RunAsync(CliSettings settings, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(output);
        var node = NodeSnapshot.Capture(settings);
        var (mode, source) = node.NodeMode();
        using var probes = new Probes(settings);
        var rows = new List<PodRow>();
        foreach (var found in VerifyCommand.Check(settings, node, mode, node.Pods))
        {
            rows.Add(Row(found, await probes.AnnotationAsync(found.Pod).ConfigureAwait(false)));
        }

        rows.AddRange(OrphanPlan.For(node).Where(o => o.Link is not null).Select(o => OrphanRow(o, node)));
        var report = new PodsReport(PodVerifier.Name(mode), source, rows);
        if (settings.Output == OutputFormat.Json)
        {
            output.WriteLine(JsonSerializer.Serialize(report, CliJsonContext.Default.PodsReport));
            return ExitCodes.Ok;
        }

        var table = new TextTable("POD", "UID", "ENI", "VLAN", "IP", "HOST-VETH", "TABLE", "MODE", "METADATA", "RECORD", "KERNEL", "ANNOTATION");
        foreach (var r in rows)
        {
            table.Add(r.Namespace is null ? null : $"{r.Namespace}/{r.Name}", r.Uid, r.EniId, Text(r.VlanId), r.Ip, r.HostVeth, Text(r.Table),
                r.Mode, r.MetadataAccess, r.Record, r.Kernel, r.Annotation.StartsWith("differs", StringComparison.Ordinal) ? "differs" : r.Annotation);
        }

        output.Write(table.ToString());
        var differing = rows.Count(r => r.Kernel != "ok" || r.Record != "ok" || r.Annotation.StartsWith("differs", StringComparison.Ordinal));
        output.WriteLine($"{rows.Count} rows, mode {report.Mode} (from {source}){(differing > 0 ? $"; {differing} disagree: run `branch-eni-agent verify` for each difference" : "")}");
        return ExitCodes.Ok;
    }

    private static PodRow Row(PodFindings found, string annotation)
    {
        var pod = found.Pod;
        var branch = pod.Branch;
        return new PodRow
        {
            Namespace = pod.Record?.PodNamespace,
            Name = pod.Record?.PodName,
            Uid = pod.Uid,
            EniId = pod.Record?.EniId,
            VlanId = pod.Record?.VlanId,
            Ip = pod.Record?.PrivateIp,
            Mac = pod.Record?.IfAddress,
            HostVeth = pod.HostVeth,
            Table = (int?)branch?.RouteTable,
            Mode = found.KernelMode is { } m ? PodVerifier.Name(m) : null,
            ContainerId = found.ContainerId,
            MetadataAccess = branch?.MetadataAccess.ToString(),
            PodNetns = found.PodNetns,
            Record = branch is null ? "invalid" : "ok",
            Kernel = branch is null ? "unknown" : found.KernelAbsent ? "absent" : found.Differences.Count == 0 ? "ok" : "differs",
            Annotation = annotation,
            Differences = found.Differences,
        };
    }

    private static PodRow OrphanRow(Orphan orphan, NodeSnapshot node)
    {
        var link = orphan.Link!;
        var vlan = BranchKernelLayout.VlanIdOf(link.Name);
        return new PodRow
        {
            VlanId = vlan,
            Mac = KernelText.Mac(link),
            Table = vlan is { } v ? (int)BranchKernelLayout.TableOf(v) : null,
            Mode = vlan is { } id && node.ModeOfTable(BranchKernelLayout.TableOf(id)) is { } m ? PodVerifier.Name(m) : null,
            ContainerId = string.IsNullOrEmpty(link.Alias) ? null : link.Alias,
            Record = "none",
            Kernel = "orphan",
            Annotation = "unknown",
            Differences = [$"orphan {orphan.Object}: {orphan.Reason}"],
        };
    }

    private static string? Text(int? value) => value?.ToString(CultureInfo.InvariantCulture);
}
