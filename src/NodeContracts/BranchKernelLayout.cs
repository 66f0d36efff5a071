using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Text;
using BranchEni.Netlink;
using BranchEni.Policy;

namespace BranchEni.Contracts;

/// <summary>
/// The names and numbers of branch pods' kernel objects, and how to recognise them on a node (a `vlan.eth.N` name, a
/// table 101..4194, the metadata deny route): what GC and `cleanup` need for objects whose owner is gone. What one pod's
/// plumbing is, object by object, is <see cref="BranchPlumbing"/>.
/// </summary>
internal static class BranchKernelLayout
{
    public const string VlanLinkPrefix = "vlan.eth.";
    public const int TableBase = 100;
    public const uint StrictRulePriority = 10;
    public const uint StandardToPodPriority = 512;
    public const uint StandardFromPodPriority = 1536;

    /// <summary>The CNI config's `vethPrefix` default.</summary>
    public const string DefaultVethPrefix = "vlan";

    /// <summary>Length of the hash part of a host veth name (hex digits of the SHA-1).</summary>
    public const int VethHashLength = 11;

    /// <summary>The node-wide lock file under stateDir that every change of branch plumbing holds (flock).</summary>
    public const string NodeLockFileName = "cni.lock";

    /// <summary>The pod's next hop: link-local, answered by a permanent neighbour entry (no ARP).</summary>
    public static readonly IPAddress PodGateway = IPAddress.Parse("169.254.1.1");

    /// <summary>The instance metadata service (IMDS) as the VPC answers it.</summary>
    public static readonly IPAddress MetadataService = IPAddress.Parse("169.254.169.254");

    // IPv6: once branch pods get IPv6 addresses, fd00:ec2::254/128 is denied the same way in the inet6 table 100+N.

    /// <summary>The lowest and highest table a branch pod can use (VLAN 1..4094).</summary>
    public static uint FirstTable => TableOf(BranchEniParser.MinVlanId);

    public static uint LastTable => TableOf(BranchEniParser.MaxVlanId);

    public static string VlanLinkName(int vlanId) => VlanLinkPrefix + vlanId.ToString(CultureInfo.InvariantCulture);

    public static uint TableOf(int vlanId) => (uint)(TableBase + vlanId);

    /// <summary>The VLAN id whose table this is; null for any table outside 101..4194 and for the kernel's own
    /// default, main and local tables (253..255, which VLANs 153..155 would collide with).</summary>
    public static int? VlanIdOfTable(uint? table) =>
        table is { } t && t >= FirstTable && t <= LastTable && t is not (RouteTables.Default or RouteTables.Main or RouteTables.Local)
            ? (int)t - TableBase
            : null;

    /// <summary>The VLAN id of a name "vlan.eth.N" with N in 1..4094; null for any other name.</summary>
    public static int? VlanIdOf(string? linkName) =>
        linkName is not null && linkName.StartsWith(VlanLinkPrefix, StringComparison.Ordinal)
        && int.TryParse(linkName.AsSpan(VlanLinkPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var id)
        && id is >= BranchEniParser.MinVlanId and <= BranchEniParser.MaxVlanId
        && VlanLinkName(id) == linkName
            ? id
            : null;

    /// <summary>What the host veth name hashes: UTF-8 of "&lt;namespace&gt;.&lt;pod&gt;".</summary>
    public static byte[] HostVethHashInput(string podNamespace, string podName) =>
        Encoding.UTF8.GetBytes($"{podNamespace}.{podName}");

    /// <summary>`&lt;prefix&gt;&lt;first 11 hex of sha1("&lt;ns&gt;.&lt;pod&gt;")&gt;`, the name the AWS VPC CNI gives; the caller
    /// supplies the SHA-1 digest of <see cref="HostVethHashInput"/> (the CNI hashes without OpenSSL, the agent with it).</summary>
    public static string HostVethName(string prefix, ReadOnlySpan<byte> sha1Digest) =>
        prefix + Convert.ToHexStringLower(sha1Digest)[..VethHashLength];

    /// <summary>The enforcing mode a table's rules show: prio-10 rules mean strict, prio-1536 standard; null: neither.</summary>
    public static EnforcingMode? ModeOfTable(IEnumerable<Rule> rules, uint table)
    {
        var shown = rules.Where(r => r.Table == table).ToList();
        return shown.Any(r => r.Priority == StrictRulePriority) ? EnforcingMode.Strict
            : shown.Any(r => r.Priority == StandardFromPodPriority) ? EnforcingMode.Standard
            : null;
    }

    /// <summary>Whether a route read from the kernel is the deny route of its table.</summary>
    public static bool IsMetadataDenyRoute(Route route) =>
        route is { Type: RouteType.Unreachable, Destination: { PrefixLength: 32 } destination } && destination.BaseAddress.Equals(MetadataService);

    /// <summary>What the kernel shows for a table: Denied when its deny route is there, else Allowed.</summary>
    public static MetadataAccess MetadataAccessOf(IEnumerable<Route> tableRoutes) =>
        tableRoutes.Any(IsMetadataDenyRoute) ? MetadataAccess.Denied : MetadataAccess.Allowed;
}
