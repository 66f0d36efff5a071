using BranchEni.Policy;
using k8s.Models;

namespace BranchEni.Controller.Companions;

/// <summary>
/// The companion NetworkPolicy an annotated policy should have (issue 19 item 4), as a pure function of the policy and
/// the VPC membership. NetworkPolicies only ever add allows, so the companion carries exactly the rules whose peers
/// select security groups, with those peers widened to what the annotation promises: (a) the same pods in every
/// namespace (membership is cluster-wide) and (b) a /32 for each private address of each VPC interface in the groups
/// that is not one of our branch ENIs (those are pods, matched by (a)). Ports are kept. Same podSelector and
/// policyTypes as the original, so the companion isolates nothing the original does not already isolate.
/// </summary>
internal static class CompanionPlanner
{
    public const string Suffix = "-sg";

    /// <summary>NetworkPolicy names are DNS subdomains (RFC 1123): at most 253 characters.</summary>
    public const int MaxNameLength = 253;

    public static string CompanionName(string original) => original + Suffix;

    /// <summary>Annotated with <c>match-security-groups: "true"</c> and not itself one of our companions.</summary>
    public static bool IsAnnotated(V1NetworkPolicy policy) =>
        policy.Metadata?.Annotations?.TryGetValue(TigeraNames.MatchSecurityGroupsAnnotation, out var value) == true && value == "true"
        && !IsManaged(policy);

    public static bool IsManaged(V1NetworkPolicy policy) =>
        policy.Metadata?.Labels?.TryGetValue(TigeraNames.ManagedByLabel, out var by) == true && by == TigeraNames.ManagedByValue;

    /// <summary>Every group some peer of the policy requires (what the membership poll must cover).</summary>
    public static IEnumerable<string> ReferencedGroups(V1NetworkPolicy policy) =>
        Peers(policy.Spec).Select(p => SecurityGroupSelector.Analyze(p.PodSelector)).Where(s => s.MatchesVpcMembers).SelectMany(s => s.Groups);

    /// <summary>The companion's spec, or null when no rule's peers select a security group.</summary>
    /// <param name="spec">The original policy's spec.</param>
    /// <param name="addresses">The private addresses of the VPC interfaces in all the given groups (not our branches).</param>
    public static V1NetworkPolicySpec? Plan(V1NetworkPolicySpec? spec, Func<IReadOnlyList<string>, IReadOnlyList<string>> addresses)
    {
        if (spec is null)
        {
            return null;
        }

        var ingress = (spec.Ingress ?? [])
            .Select(r => Rewrite(r.FromProperty, addresses) is { } peers ? new V1NetworkPolicyIngressRule { FromProperty = peers, Ports = r.Ports } : null)
            .OfType<V1NetworkPolicyIngressRule>().ToList();
        var egress = (spec.Egress ?? [])
            .Select(r => Rewrite(r.To, addresses) is { } peers ? new V1NetworkPolicyEgressRule { To = peers, Ports = r.Ports } : null)
            .OfType<V1NetworkPolicyEgressRule>().ToList();
        if (ingress.Count == 0 && egress.Count == 0)
        {
            return null;
        }

        return new V1NetworkPolicySpec
        {
            PodSelector = spec.PodSelector ?? new V1LabelSelector(),
            // Kubernetes' default when unset: Ingress, plus Egress when there are egress rules. Writing it out keeps the
            // companion's isolation equal to the original's even if the original's rules change shape.
            PolicyTypes = spec.PolicyTypes is { Count: > 0 } types ? [.. types] : spec.Egress is { Count: > 0 } ? ["Ingress", "Egress"] : ["Ingress"],
            Ingress = ingress.Count > 0 ? ingress : null,
            Egress = egress.Count > 0 ? egress : null,
        };
    }

    /// <summary>The rule's security-group peers rewritten, or null when it has none (the original covers the rest).</summary>
    private static List<V1NetworkPolicyPeer>? Rewrite(IList<V1NetworkPolicyPeer>? peers, Func<IReadOnlyList<string>, IReadOnlyList<string>> addresses)
    {
        var result = new List<V1NetworkPolicyPeer>();
        var cidrs = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var peer in peers ?? [])
        {
            var selector = SecurityGroupSelector.Analyze(peer.PodSelector);
            if (peer.IpBlock is not null || !selector.ReferencesGroups)
            {
                continue;
            }

            // (a) The pods in the groups, in every namespace. A peer that names its namespaces itself keeps them: the
            // author narrowed the pods on purpose, and widening that would allow more than was written.
            result.Add(new V1NetworkPolicyPeer { PodSelector = peer.PodSelector, NamespaceSelector = peer.NamespaceSelector ?? new V1LabelSelector() });
            if (selector.MatchesVpcMembers)
            {
                foreach (var address in addresses(selector.Groups))
                {
                    cidrs.Add(address + "/32");
                }
            }
        }

        // (b) One ipBlock per address, sorted, so an unchanged membership gives an identical companion (no write churn).
        result.AddRange(cidrs.Select(c => new V1NetworkPolicyPeer { IpBlock = new V1IPBlock { Cidr = c } }));
        return result.Count > 0 ? result : null;
    }

    private static IEnumerable<V1NetworkPolicyPeer> Peers(V1NetworkPolicySpec? spec) =>
        (spec?.Ingress ?? []).SelectMany(r => r.FromProperty ?? []).Concat((spec?.Egress ?? []).SelectMany(r => r.To ?? []));
}
