using System.Diagnostics;
using Amazon.EC2;
using Amazon.EC2.Model;
using BranchEni.Aws;
using Serilog;

namespace BranchEni.Controller.Companions;

/// <summary>
/// Which VPC network interfaces are in which security groups, read from EC2: DescribeNetworkInterfaces filtered by
/// <c>group-id</c> (only the groups annotated policies reference), paginated, through the shared call policy
/// (<see cref="Ec2CallPolicy"/>) with the controller's own small Describe bucket. Our branch ENIs (interface type
/// branch with our owner tag) are left out: they are pods, and the companion matches pods by their labels.
/// </summary>
internal sealed class SecurityGroupMembership(IAmazonEC2 ec2, Ec2CallPolicy policy, ILogger log)
{
    // EC2 takes at most 200 values per filter; a smaller batch keeps each request's answer small too.
    private const int GroupsPerCall = 50;

    private Dictionary<string, GroupMembers> _groups = new(StringComparer.Ordinal);

    /// <summary>How old a group's last good answer may be before it counts as unknown (its addresses are dropped).</summary>
    public TimeSpan MaxStaleness { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Reads the groups' members again. On failure the previous answers stay in use until they are older than
    /// <see cref="MaxStaleness"/>, and the error is rethrown for the caller to report.
    /// </summary>
    public async Task RefreshAsync(IReadOnlyCollection<string> groups, CancellationToken ct)
    {
        var fresh = new Dictionary<string, GroupMembers>(StringComparer.Ordinal);
        var now = Stopwatch.GetTimestamp();
        foreach (var batch in groups.Order(StringComparer.Ordinal).Chunk(GroupsPerCall))
        {
            var members = batch.ToDictionary(g => g, _ => new Dictionary<string, string[]>(StringComparer.Ordinal), StringComparer.Ordinal);
            string? next = null;
            do
            {
                var request = new DescribeNetworkInterfacesRequest { Filters = [new Filter("group-id", [.. batch])], MaxResults = 1000, NextToken = next };
                var page = await policy.CallAsync("DescribeNetworkInterfaces", c => ec2.DescribeNetworkInterfacesAsync(request, c), ct).ConfigureAwait(false);
                foreach (var eni in page.NetworkInterfaces ?? [])
                {
                    if (eni.NetworkInterfaceId is null || IsOurBranch(eni))
                    {
                        continue;
                    }

                    var addresses = Addresses(eni);
                    foreach (var group in eni.Groups ?? [])
                    {
                        if (group.GroupId is not null && members.TryGetValue(group.GroupId, out var set))
                        {
                            set[eni.NetworkInterfaceId] = addresses;
                        }
                    }
                }

                next = page.NextToken;
            }
            while (!string.IsNullOrEmpty(next));
            foreach (var (group, set) in members)
            {
                fresh[group] = new GroupMembers(set, now);
            }
        }

        _groups = fresh;
        log.Debug("Security group membership read for {Groups} groups", fresh.Count);
    }

    /// <summary>Marks a failed refresh: answers older than the staleness bound are forgotten.</summary>
    public void ExpireStale()
    {
        var kept = _groups.Where(g => Stopwatch.GetElapsedTime(g.Value.ReadAt) <= MaxStaleness).ToDictionary(StringComparer.Ordinal);
        if (kept.Count != _groups.Count)
        {
            log.Warning("Security group membership of {Groups} groups is older than {Minutes} min and is no longer used: their VPC addresses leave the companions",
                _groups.Count - kept.Count, (int)MaxStaleness.TotalMinutes);
            _groups = kept;
        }
    }

    /// <summary>Whether every group has a usable answer.</summary>
    public bool Knows(IEnumerable<string> groups) => groups.All(_groups.ContainsKey);

    /// <summary>The sorted private addresses of the interfaces in every one of <paramref name="groups"/>; empty when unknown.</summary>
    public IReadOnlyList<string> AddressesInAll(IReadOnlyList<string> groups)
    {
        var snapshot = _groups;
        if (groups.Count == 0 || !groups.All(snapshot.ContainsKey))
        {
            return [];
        }

        var enis = snapshot[groups[0]].Enis;
        return enis.Where(e => groups.Skip(1).All(g => snapshot[g].Enis.ContainsKey(e.Key)))
            .SelectMany(e => e.Value).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
    }

    private static bool IsOurBranch(NetworkInterface eni) =>
        eni.InterfaceType?.Value == "branch"
        && (eni.TagSet ?? []).Any(t => t.Key == EniTags.Owner && t.Value == EniTags.OwnerValue);

    /// <summary>Primary and secondary private IPv4 addresses.</summary>
    private static string[] Addresses(NetworkInterface eni) =>
        [.. (eni.PrivateIpAddresses ?? []).Select(a => a.PrivateIpAddress).Append(eni.PrivateIpAddress).OfType<string>().Where(a => a.Length > 0).Distinct(StringComparer.Ordinal)];

    private sealed record GroupMembers(Dictionary<string, string[]> Enis, long ReadAt);
}
