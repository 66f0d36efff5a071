using System.Text.RegularExpressions;
using BranchEni.Policy;
using k8s.Models;

namespace BranchEni.Controller.Companions;

/// <summary>
/// What a NetworkPolicy peer's podSelector says about security groups (issue 19 item 4). Every pod in a group carries
/// <c>sg.aws.tigera.io/&lt;sg-id&gt;: ""</c>, so a requirement on such a key is a requirement on group membership:
/// <list type="bullet">
/// <item>matchLabels with value "", matchExpressions Exists, and In whose values hold "" all mean "in that group"
/// (Exists is the same set as the "" label, because the label never has another value);</item>
/// <item>several such keys in one selector mean "in all of those groups" (selector requirements are ANDed), so the
/// VPC members are the network interfaces in every one of them;</item>
/// <item>NotIn, DoesNotExist, a non-empty matchLabels value, or any requirement on another key cannot be answered for
/// an EC2 instance or RDS interface (they carry no pod labels): such a selector still selects pods cluster-wide, but
/// adds no VPC addresses. Adding them anyway would allow more than the policy says; the engine fails closed instead.</item>
/// </list>
/// A key whose suffix is not an sg- id is not a group (it is never sent to EC2).
/// </summary>
internal sealed partial record SecurityGroupSelector(IReadOnlyList<string> Groups, bool MatchesVpcMembers)
{
    /// <summary>The selector has at least one "in group" requirement: its rule gets a companion peer.</summary>
    public bool ReferencesGroups => Groups.Count > 0;

    public static SecurityGroupSelector Analyze(V1LabelSelector? selector)
    {
        var groups = new List<string>();
        var onlyGroups = true;
        foreach (var (key, value) in selector?.MatchLabels ?? new Dictionary<string, string>())
        {
            var group = GroupOf(key);
            if (group is not null && value.Length == 0)
            {
                groups.Add(group);
            }
            else
            {
                onlyGroups = false;
            }
        }

        foreach (var requirement in selector?.MatchExpressions ?? [])
        {
            var group = GroupOf(requirement.Key);
            var positive = requirement.OperatorProperty switch
            {
                "Exists" => true,
                "In" => requirement.Values?.Contains("") == true,
                _ => false,
            };
            if (group is not null && positive)
            {
                groups.Add(group);
            }
            else
            {
                onlyGroups = false;
            }
        }

        var distinct = groups.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        return new SecurityGroupSelector(distinct, distinct.Count > 0 && onlyGroups);
    }

    /// <summary>The group id of an <c>sg.aws.tigera.io/&lt;sg-id&gt;</c> key, or null.</summary>
    internal static string? GroupOf(string? key) =>
        key is not null && key.StartsWith(TigeraNames.SecurityGroupLabelPrefix, StringComparison.Ordinal)
        && key[TigeraNames.SecurityGroupLabelPrefix.Length..] is var id && GroupId().IsMatch(id) ? id : null;

    // EC2 security group ids: "sg-" and 8 (older) or 17 hex digits.
    [GeneratedRegex("^sg-(?:[0-9a-f]{8}|[0-9a-f]{17})$", RegexOptions.CultureInvariant)]
    private static partial Regex GroupId();
}
