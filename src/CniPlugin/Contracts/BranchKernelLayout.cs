using System.Globalization;
using System.Net;
using System.Text;
using BranchEni.Netlink;

namespace BranchEni.Contracts;

/// <summary>
/// The names, numbers and rule shapes of one branch pod's kernel layout (DESIGN.md §2, "Kernel layout per branch pod"):
/// one definition for the CNI, which builds the layout, and the agent's debug commands, which check and clean it.
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

    /// <summary>strict, prio 10: everything from the VLAN or from the pod's veth uses the pod's table.</summary>
    public static Rule[] StrictRules(string vlanLink, string hostVeth, uint table) =>
    [
        new() { Priority = StrictRulePriority, IifName = vlanLink, Table = table },
        new() { Priority = StrictRulePriority, IifName = hostVeth, Table = table },
    ];

    /// <summary>standard, prio 512: to the pod via main; prio 1536: from the pod via its table.</summary>
    public static Rule[] StandardRules(IPAddress podIp, uint table) =>
    [
        new() { Priority = StandardToPodPriority, To = new IPNetwork(podIp, 32), Table = RouteTables.Main },
        new() { Priority = StandardFromPodPriority, From = new IPNetwork(podIp, 32), Table = table },
    ];
}
