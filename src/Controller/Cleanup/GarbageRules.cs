using Amazon.EC2.Model;
using BranchEni.Aws;

namespace BranchEni.Controller.Cleanup;

/// <summary>A network interface as the cleanup judges it (from DescribeNetworkInterfaces).</summary>
internal sealed record CleanupEni(string Id, string Status, string? InterfaceType, string? Description, bool Attached, IReadOnlyDictionary<string, string> Tags)
{
    public string? Tag(string key) => Tags.TryGetValue(key, out var v) ? v : null;

    public static CleanupEni From(NetworkInterface eni) => new(
        eni.NetworkInterfaceId,
        eni.Status?.Value ?? "",
        eni.InterfaceType?.Value,
        eni.Description,
        eni.Attachment is not null,
        (eni.TagSet ?? []).Where(t => t.Key is not null).GroupBy(t => t.Key).ToDictionary(g => g.Key, g => g.First().Value ?? "", StringComparer.Ordinal));
}

/// <summary>Why an ENI is garbage; the names are the metric's labels and the log's words.</summary>
internal static class GarbageReason
{
    public const string InstanceGone = "instance-gone";
    public const string PodGone = "pod-gone";
}

/// <summary>An ENI the rules call garbage on this pass: its kind ("branch" or "trunk") and why.</summary>
internal sealed record Garbage(CleanupEni Eni, string Kind, string Reason)
{
    public string? InstanceId => Eni.Tag(EniTags.InstanceId);

    public string? PodUid => Eni.Tag(EniTags.PodUid);
}

/// <summary>
/// Which of the cluster's ENIs are garbage, as a pure function of what EC2 and the API server said (the item 3).
/// Every "don't know" keeps: an ENI not tagged ours and this cluster's, not <c>available</c>, attached, of no known kind,
/// without an instance tag, whose instance's state is unknown, or (a branch of a live instance) without a pod tag or whose
/// pod cannot be looked up. Associations are checked later, only for the ENIs that are due (an extra Describe call).
/// </summary>
internal static class GarbageRules
{
    public const string Branch = "branch";
    public const string Trunk = "trunk";

    /// <summary>The ENI's verdict: null keeps it.</summary>
    /// <param name="eni">As DescribeNetworkInterfaces showed it.</param>
    /// <param name="clusterName">Whose <c>kubernetes.io/cluster/&lt;name&gt;</c> tag makes it ours.</param>
    /// <param name="instanceGone">true: gone (not found, shutting-down, terminated); false: exists; null: unknown.</param>
    /// <param name="podExists">true: in the cluster; false: gone; null: cannot say (cache not synced).</param>
    public static Garbage? Judge(CleanupEni eni, string clusterName, Func<string, bool?> instanceGone, Func<string, bool?> podExists)
    {
        if (!IsOurs(eni, clusterName) || eni.Status != "available" || eni.Attached || KindOf(eni) is not { } kind
            || eni.Tag(EniTags.InstanceId) is not { Length: > 0 } instance)
        {
            return null;
        }

        switch (instanceGone(instance))
        {
            case true:
                return new Garbage(eni, kind, GarbageReason.InstanceGone);
            case null:
                return null;
        }

        // The instance lives: its agent, if running, owns its ENIs; only a branch whose pod is gone everywhere is ours too.
        if (kind != Branch || eni.Tag(EniTags.PodUid) is not { Length: > 0 } uid)
        {
            return null;
        }

        return podExists(uid) == false ? new Garbage(eni, kind, GarbageReason.PodGone) : null;
    }

    /// <summary>Our owner tag and this cluster's tag with the value the agents write.</summary>
    public static bool IsOurs(CleanupEni eni, string clusterName) =>
        eni.Tag(EniTags.Owner) == EniTags.OwnerValue && eni.Tag(EniTags.Cluster(clusterName)) == "owned";

    /// <summary>"trunk", "branch", or null when the ENI is neither the agents' trunk nor their branch.</summary>
    public static string? KindOf(CleanupEni eni) =>
        eni.InterfaceType == "trunk" || eni.Description == EniTags.TrunkDescription ? Trunk
        : eni.InterfaceType == "branch" || eni.Description == EniTags.BranchDescription || eni.Tag(EniTags.VlanId) is not null ? Branch
        : null;
}
