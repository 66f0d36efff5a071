using System.Globalization;
using System.Text;
using BranchEni.Sandbox.Admin;

namespace BranchEni.Sandbox.Fabric;

/// <summary>
/// Security groups as an nftables ruleset for the router namespace. Like EC2's: stateful (replies to an admitted
/// connection pass), outbound open, inbound to an ENI only what one of its groups admits, by CIDR or by the source
/// ENI's membership of a group; anything else is dropped silently, so a refused client times out.
/// </summary>
internal static class SecurityGroupRuleset
{
    public const string Table = "vpc_security_groups";

    public static string Render(Ec2Snapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var groups = snapshot.SecurityGroups.ToDictionary(g => g.Id, StringComparer.Ordinal);
        var enis = snapshot.NetworkInterfaces.Where(e => e.InterfaceType != "trunk").OrderBy(e => e.Id, StringComparer.Ordinal).ToList();
        var text = new StringBuilder();
        // Declaring then deleting the table makes the load idempotent and atomic: nft applies one file as one transaction.
        text.Append(CultureInfo.InvariantCulture, $"table inet {Table}\ndelete table inet {Table}\ntable inet {Table} {{\n");
        foreach (var g in snapshot.SecurityGroups.OrderBy(g => g.Id, StringComparer.Ordinal))
        {
            var members = enis.Where(e => e.GroupIds.Contains(g.Id)).Select(e => e.PrivateIp).ToList();
            text.Append(CultureInfo.InvariantCulture, $"  set {SetName(g.Id)} {{\n    type ipv4_addr\n");
            if (members.Count > 0)
            {
                text.Append(CultureInfo.InvariantCulture, $"    elements = {{ {string.Join(", ", members)} }}\n");
            }

            text.Append("  }\n");
        }

        text.Append("  chain forward {\n    type filter hook forward priority filter; policy accept;\n    ct state established,related accept\n");
        foreach (var eni in enis)
        {
            text.Append(CultureInfo.InvariantCulture, $"    ip daddr {eni.PrivateIp} jump {ChainName(eni.Id)}\n");
        }

        // A route-table entry delivers its prefix to the instance's primary ENI, so that ENI's groups filter it too
        // (pods on the node's own networking are reached this way, behind the node's security groups).
        foreach (var route in snapshot.Routes)
        {
            var primary = enis.FirstOrDefault(e => e.InstanceId == route.InstanceId && e.DeviceIndex == 0);
            if (primary is not null)
            {
                text.Append(CultureInfo.InvariantCulture, $"    ip daddr {route.DestinationCidrBlock} jump {ChainName(primary.Id)}\n");
            }
        }

        text.Append("  }\n");
        foreach (var eni in enis)
        {
            text.Append(CultureInfo.InvariantCulture, $"  chain {ChainName(eni.Id)} {{\n");
            foreach (var rule in eni.GroupIds.Where(groups.ContainsKey).SelectMany(id => groups[id].Ingress))
            {
                foreach (var source in Sources(rule))
                {
                    text.Append(CultureInfo.InvariantCulture, $"    {Match(rule)}{source} accept\n");
                }
            }

            text.Append(CultureInfo.InvariantCulture, $"    counter drop comment \"inbound to {eni.Id} not admitted by {string.Join(",", eni.GroupIds)}\"\n  }}\n");
        }

        return text.Append("}\n").ToString();
    }

    private static IEnumerable<string> Sources(Seed.IngressRuleSeed rule) =>
        rule.Cidrs.Select(c => "ip saddr " + c).Concat(rule.SourceGroupIds.Select(g => "ip saddr @" + SetName(g)));

    private static string Match(Seed.IngressRuleSeed rule) => rule.Protocol switch
    {
        "tcp" or "udp" => $"meta l4proto {rule.Protocol} th dport {Ports(rule)} ",
        "icmp" => "meta l4proto icmp ",
        _ => "",
    };

    private static string Ports(Seed.IngressRuleSeed rule) =>
        rule.FromPort == rule.ToPort
            ? rule.FromPort!.Value.ToString(CultureInfo.InvariantCulture)
            : string.Create(CultureInfo.InvariantCulture, $"{rule.FromPort}-{rule.ToPort}");

    private static string SetName(string groupId) => "sg_" + groupId.Replace('-', '_');

    private static string ChainName(string eniId) => "to_" + eniId.Replace('-', '_');
}
