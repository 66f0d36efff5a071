using System.Net.Sockets;
using System.Security.Cryptography;
using BranchEni.Agent.Configuration;
using BranchEni.Contracts;
using BranchEni.Netlink;

namespace BranchEni.Agent.Cli;

/// <summary>One pod record as found in stateDir/pods, checked; <see cref="Error"/> says why it is unusable.</summary>
internal sealed record RecordedPod(string Uid, PodRecord? Record, BranchEniAssignment? Branch, string? HostVeth, string? Error)
{
    /// <summary>"namespace/name", or the UID when the record does not say.</summary>
    public string Display => Record is { PodNamespace: { } ns, PodName: { } name } ? $"{ns}/{name}" : Uid;

    public int? VlanId => Branch?.VlanId;
}

/// <summary>
/// The node's kernel state (links, IPv4 rules and routes of every table, the sysctls the datapath needs) and the
/// node-local records, read once so every check and every cleanup decision sees the same moment.
/// </summary>
internal sealed class NodeSnapshot : IHostKernel
{
    public required IReadOnlyList<Link> Links { get; init; }

    public required IReadOnlyList<Rule> Rules { get; init; }

    public required IReadOnlyList<Route> Routes { get; init; }

    public required TrunkRecord? Trunk { get; init; }

    public string? TrunkError { get; init; }

    public required IReadOnlyList<RecordedPod> Pods { get; init; }

    public required InstalledCni Cni { get; init; }

    /// <summary>Sysctl values by slashed name (net/ipv4/ip_forward); absent when the file does not exist.</summary>
    public required IReadOnlyDictionary<string, string> Sysctls { get; init; }

    public required string StateDir { get; init; }

    public required IBranchVlanLink VlanLink { get; init; }

    /// <summary>Reads the node; throws <see cref="NetlinkException"/> or IO errors when it cannot be read at all.</summary>
    public static NodeSnapshot Capture(CliSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var cni = InstalledCni.Read(settings);
        var records = new NodeRecords(settings.StateDir);
        TrunkRecord? trunk = null;
        string? trunkError = null;
        try
        {
            trunk = records.ReadTrunk();
        }
        catch (InvalidDataException e)
        {
            trunkError = e.Message;
        }

        var pods = records.ListPods().Select(p => Check(p.PodUid, p.Record, p.Error, cni.VethPrefix))
            .OrderBy(p => p.Display, StringComparer.Ordinal).ToList();
        using var ns = settings.NodeNetns is null ? NetworkNamespace.OpenCurrent() : NetworkNamespace.Open(settings.NodeNetns);
        using var handle = ns.OpenNetlink();
        var links = handle.ListLinks();
        var sysctlNames = new List<string> { "net/ipv4/ip_forward", "net/ipv4/conf/all/rp_filter" };
        sysctlNames.AddRange(links.Select(l => $"net/ipv4/conf/{l.Name}/rp_filter"));
        return new NodeSnapshot
        {
            Links = links,
            Rules = handle.ListRules(AddressFamily.InterNetwork),
            Routes = handle.ListRoutes(AddressFamily.InterNetwork),
            Trunk = trunk,
            TrunkError = trunkError,
            Pods = pods,
            Cni = cni,
            Sysctls = ReadSysctls(ns, sysctlNames),
            StateDir = settings.StateDir,
            VlanLink = settings.VlanLink,
        };
    }

    public Link? Link(string? name) => name is null ? null : Links.FirstOrDefault(l => l.Name == name);

    public Link? Link(int? index) => index is null ? null : Links.FirstOrDefault(l => l.Index == index);

    public IEnumerable<Route> RoutesOf(uint table) => Routes.Where(r => r.Table == table);

    /// <summary>Links that look like our VLAN links: the right kind and a vlan.eth.N name.</summary>
    public IEnumerable<Link> VlanLinks => Links.Where(VlanLink.IsBranchVlanLink);

    /// <summary>The trunk's link, found by the recorded MAC as the CNI does.</summary>
    public Link? TrunkLink
    {
        get
        {
            if (Trunk?.MacAddress is not { } text)
            {
                return null;
            }

            try
            {
                var mac = BranchEniParser.ParseMac(text, "macAddress");
                // VLAN links carry branch MACs, never the trunk's; skip them by name in case one was given the trunk's MAC.
                return Links.FirstOrDefault(l => l.Mac is { } m && m.Equals(mac) && BranchKernelLayout.VlanIdOf(l.Name) is null);
            }
            catch (BranchEniFormatException)
            {
                return null;
            }
        }
    }

    /// <summary>The effective rp_filter of a link: the kernel uses the larger of conf/all and conf/&lt;dev&gt;.</summary>
    public int? RpFilter(string link)
    {
        static int? Parse(string? text) => int.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : null;
        var dev = Parse(Sysctls.GetValueOrDefault($"net/ipv4/conf/{link}/rp_filter"));
        var all = Parse(Sysctls.GetValueOrDefault("net/ipv4/conf/all/rp_filter"));
        return dev is null ? null : Math.Max(dev.Value, all ?? 0);
    }

    /// <summary>The enforcing mode a table's rules show: prio-10 rules mean strict, prio-1536 standard.</summary>
    public EnforcingMode? ModeOfTable(uint table) => BranchKernelLayout.ModeOfTable(Rules, table);

    /// <summary>The node's mode and where it came from: the installed conflist, else the rules present, else the
    /// CNI's default (strict).</summary>
    public (EnforcingMode Mode, string Source) NodeMode()
    {
        if (Cni.Mode is { } configured)
        {
            return (configured, "conflist");
        }

        var seen = Pods.Where(p => p.Branch is not null).Select(p => ModeOfTable(p.Branch!.RouteTable)).OfType<EnforcingMode>().Distinct().ToList();
        return seen.Count == 1 ? (seen[0], "rules") : (EnforcingMode.Strict, "default");
    }

    private static RecordedPod Check(string uid, PodRecord? record, string? error, string vethPrefix)
    {
        if (record is null)
        {
            return new RecordedPod(uid, null, null, null, error ?? "unreadable");
        }

        if (record.PodNamespace is not { Length: > 0 } ns || record.PodName is not { Length: > 0 } name)
        {
            return new RecordedPod(uid, record, null, null, "podNamespace or podName is missing");
        }

        var veth = HostVethName(vethPrefix, ns, name);
        if (record.PodUid != uid)
        {
            return new RecordedPod(uid, record, null, veth, $"podUid '{record.PodUid}' is not the file name's {uid}");
        }

        try
        {
            return new RecordedPod(uid, record, BranchEniParser.Parse(record), veth, null);
        }
        catch (BranchEniFormatException e)
        {
            return new RecordedPod(uid, record, null, veth, e.Message);
        }
    }

    /// <summary>The CNI's host veth name; SHA-1 from the runtime here (the agent does not share the CNI's start-up budget).</summary>
#pragma warning disable CA5350 // SHA-1 is the name format the AWS VPC CNI fixed, not a security measure.
    public static string HostVethName(string prefix, string podNamespace, string podName) =>
        BranchKernelLayout.HostVethName(prefix, SHA1.HashData(BranchKernelLayout.HostVethHashInput(podNamespace, podName)));
#pragma warning restore CA5350

    private static Dictionary<string, string> ReadSysctls(NetworkNamespace ns, List<string> names) =>
        // One thread in the namespace for all of them: /proc/sys/net resolves to the reading thread's namespace.
        ns.Run(() =>
        {
            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var name in names)
            {
                try
                {
                    values[name] = File.ReadAllText("/proc/sys/" + name).TrimEnd('\n');
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // A link that went away between the dump and this read: its sysctl is simply not known.
                }
            }

            return values;
        });
}
