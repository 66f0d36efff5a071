using System.Text.Json;
using BranchEni.Contracts;
using BranchEni.Netlink;

namespace BranchEni.Agent.Cli;

/// <summary>
/// `cleanup [--dry-run]`: removes the branch plumbing <see cref="OrphanPlan"/> finds without a live owner, printing
/// each object. It holds the CNI's node lock (stateDir/cni.lock) and decides on a snapshot taken under it, so it never
/// races an ADD or DEL. A record that does not parse stops it: its VLAN would look orphaned.
/// </summary>
internal static class CleanupCommand
{
    public static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(10);

    public static int Run(CliSettings settings, bool dryRun, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        using var nodeLock = dryRun ? null : TryLock(settings.StateDir);
        if (!dryRun && nodeLock is null)
        {
            error.WriteLine($"branch-eni-agent cleanup: the node lock {Path.Combine(settings.StateDir, BranchKernelLayout.NodeLockFileName)} stayed busy for {LockTimeout.TotalSeconds:0} s");
            return ExitCodes.CannotInspect;
        }

        var node = NodeSnapshot.Capture(settings);
        if (node.Pods.FirstOrDefault(p => p.Branch is null) is { } invalid)
        {
            error.WriteLine($"branch-eni-agent cleanup: refusing: record {invalid.Uid}.json is unusable ({invalid.Error}); its VLAN would look orphaned. Fix or remove it first.");
            return ExitCodes.CannotInspect;
        }

        var plan = OrphanPlan.For(node);
        var entries = dryRun ? plan.Select(o => new CleanupEntry(o.Kind, o.Object, o.Reason, false, null)).ToList() : Apply(settings, plan);
        var report = new CleanupReport(dryRun, entries.All(e => e.Error is null), entries);
        if (settings.Output == OutputFormat.Json)
        {
            output.WriteLine(JsonSerializer.Serialize(report, CliJsonContext.Default.CleanupReport));
        }
        else
        {
            foreach (var e in entries)
            {
                var verb = dryRun ? "would remove" : e.Done ? "removed" : e.Error is null ? "already gone" : "FAILED to remove";
                output.WriteLine($"{verb} {e.Object}: {e.Reason}{(e.Error is null ? "" : $" ({e.Error})")}");
            }

            var failed = entries.Count(e => e.Error is not null);
            var removed = entries.Count(e => e.Done);
            output.WriteLine(entries.Count == 0 ? "cleanup: nothing to remove"
                : dryRun ? $"cleanup: {entries.Count} objects would be removed (dry run: nothing changed)"
                : $"cleanup: {removed} removed, {entries.Count - removed - failed} already gone, {failed} failed");
        }

        return report.Ok ? ExitCodes.Ok : ExitCodes.Differences;
    }

    private static List<CleanupEntry> Apply(CliSettings settings, IReadOnlyList<Orphan> plan)
    {
        using var ns = settings.NodeNetns is null ? NetworkNamespace.OpenCurrent() : NetworkNamespace.Open(settings.NodeNetns);
        using var handle = ns.OpenNetlink();
        var entries = new List<CleanupEntry>();
        foreach (var orphan in plan)
        {
            try
            {
                var done = orphan switch
                {
                    { Rule: { } rule } => handle.DeleteRuleIfExists(rule),
                    { Link: { } link } => DeleteLink(handle, link),
                    // A route through a removed link went with it: "already gone" is success.
                    { Route: { } route } => handle.DeleteRouteIfExists(route),
                    _ => false,
                };
                entries.Add(new CleanupEntry(orphan.Kind, orphan.Object, orphan.Reason, done, null));
            }
            catch (NetlinkException e)
            {
                entries.Add(new CleanupEntry(orphan.Kind, orphan.Object, orphan.Reason, false, e.Message));
            }
        }

        return entries;
    }

    /// <summary>Deletes the link only while it is still the one planned on (same index, same owner).</summary>
    private static bool DeleteLink(NetlinkHandle handle, Link link)
    {
        var now = handle.TryGetLink(link.Name);
        return now is not null && now.Index == link.Index && now.Alias == link.Alias && handle.DeleteLinkIfExists(link.Index);
    }

    /// <summary>flock on the CNI's lock file (FileShare.None takes LOCK_EX), polled until the timeout.</summary>
    private static FileStream? TryLock(string stateDir)
    {
        Directory.CreateDirectory(stateDir);
        var path = Path.Combine(stateDir, BranchKernelLayout.NodeLockFileName);
        var deadline = DateTime.UtcNow + LockTimeout;
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(20);
            }
            catch (IOException)
            {
                return null;
            }
        }
    }
}
