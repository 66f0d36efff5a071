using System.Diagnostics;
using System.Globalization;
using System.CommandLine;
using BranchEni.Agent.Cli;
using BranchEni.Agent.Configuration;
using BranchEni.Testing;

namespace BranchEni.Agent.Tests.Cli;

/// <summary>
/// A throwaway "node" namespace wired by hand (`ip`) with the CNI's branch layout, records, a conflist and a CNI
/// binary file, against which the debug commands run in process. This host kernel has no 8021q: a veth named
/// vlan.eth.N (its peer in a "vpc" namespace) stands in for each VLAN link, and the commands are told so
/// (<see cref="VethVlanStandIn"/>). Nothing touches the host's own namespace; everything is deleted on dispose.
/// </summary>
internal sealed class CliNode : IDisposable
{
    private readonly List<string> _namespaces = [];

    public CliNode(string mode = "strict")
    {
        Suffix = Guid.NewGuid().ToString("N")[..8];
        Dir = Directory.CreateTempSubdirectory("branch-eni-cli-").FullName;
        Node = AddNamespace($"be-node-{Suffix}");
        Vpc = AddNamespace($"be-vpc-{Suffix}");
        Ip($"-n {Node} link add trunk0 address 0a:58:0a:32:00:02 type veth peer name trunkpeer netns {Vpc}");
        Ip($"-n {Node} link set trunk0 up");
        Sh($"ip netns exec {Node} sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0");
        if (mode == "strict")
        {
            Ip($"-n {Node} rule add pref 20 lookup local");
            Ip($"-n {Node} rule del pref 0 lookup local");
        }

        Directory.CreateDirectory(Path.Combine(StateDir, "pods"));
        Directory.CreateDirectory(ConfDir);
        Directory.CreateDirectory(BinDir);
        File.WriteAllText(Path.Combine(StateDir, "trunk.json"), """{"eniId":"eni-0abc","macAddress":"0a:58:0a:32:00:02","linkName":"trunk0"}""");
        File.WriteAllText(Path.Combine(ConfDir, "05-branch-eni.conflist"),
            $$"""{"cniVersion":"1.0.0","name":"branch-eni","plugins":[{"type":"branch-eni","stateDir":"{{StateDir}}","enforcingMode":"{{mode}}"}]}""");
        File.WriteAllText(Path.Combine(BinDir, "branch-eni"), "");
    }

    public string Suffix { get; }

    public string Dir { get; }

    public string Node { get; }

    public string Vpc { get; }

    public string StateDir => Path.Combine(Dir, "state");

    public string ConfDir => Path.Combine(Dir, "conf");

    public string BinDir => Path.Combine(Dir, "bin");

    public static string Uid(int vlan) => $"0f1e2d3c-aaaa-bbbb-cccc-{vlan:D12}";

    public static string Ip4(int vlan) => $"10.77.0.{vlan + 10}";

    public static string Mac(int vlan) => $"0e:ee:16:bd:41:{vlan:x2}";

    public static string HostVeth(string pod) => NodeSnapshot.HostVethName("vlan", "default", pod);

    /// <summary>A pod wired exactly as the CNI does (DESIGN.md §2), plus its record; returns the pod namespace.</summary>
    public string AddPod(string name, int vlan, string mode = "strict", bool record = true, string? metadataAccess = null)
    {
        var podNs = AddNamespace($"be-{name}-{Suffix}");
        var veth = HostVeth(name);
        var table = 100 + vlan;
        var ip = Ip4(vlan);
        Ip($"-n {Node} link add {veth} mtu 9001 type veth peer name eth0 mtu 9001 netns {podNs}");
        Ip($"-n {Node} link set {veth} alias ctr-{name} up");
        Ip($"-n {podNs} addr add {ip}/32 dev eth0");
        Ip($"-n {podNs} link set eth0 up");
        Ip($"-n {podNs} route add 169.254.1.1/32 dev eth0 scope link");
        Ip($"-n {podNs} route add default via 169.254.1.1 dev eth0");
        Ip($"-n {podNs} neigh add 169.254.1.1 lladdr {LinkMac(Node, veth)} dev eth0 nud permanent");
        AddVlanStandIn(vlan, $"ctr-{name}");
        if (mode == "strict")
        {
            Ip($"-n {Node} route add {ip}/32 dev {veth} scope link table {table}");
            Ip($"-n {Node} rule add pref 10 iif vlan.eth.{vlan} lookup {table}");
            Ip($"-n {Node} rule add pref 10 iif {veth} lookup {table}");
        }
        else
        {
            Ip($"-n {Node} route add {ip}/32 dev {veth} scope link");
            Ip($"-n {Node} rule add pref 512 to {ip} lookup main");
            Ip($"-n {Node} rule add pref 1536 from {ip} lookup {table}");
        }

        if (metadataAccess == "Denied")
        {
            Ip($"-n {Node} route add unreachable 169.254.169.254/32 table {table}");
        }

        if (record)
        {
            WriteRecord(name, vlan, metadataAccess: metadataAccess);
        }

        return podNs;
    }

    /// <summary>vlan.eth.N (a veth here) with the branch MAC, its owner alias and table 100+N's two routes.</summary>
    public void AddVlanStandIn(int vlan, string owner)
    {
        Ip($"-n {Node} link add vlan.eth.{vlan} address {Mac(vlan)} type veth peer name v{vlan} netns {Vpc}");
        Ip($"-n {Node} link set vlan.eth.{vlan} alias {owner} up");
        Ip($"-n {Node} route add 10.77.0.1/32 dev vlan.eth.{vlan} scope link table {100 + vlan}");
        Ip($"-n {Node} route add default via 10.77.0.1 dev vlan.eth.{vlan} table {100 + vlan}");
    }

    public void WriteRecord(string name, int vlan, string? uid = null, string? metadataAccess = null) =>
        File.WriteAllText(Path.Combine(StateDir, "pods", (uid ?? Uid(vlan)) + ".json"),
            $$"""{{{Annotation(vlan)[2..^2]}},"podNamespace":"default","podName":"{{name}}","podUid":"{{uid ?? Uid(vlan)}}"{{(metadataAccess is null ? "" : $",\"metadataAccess\":\"{metadataAccess}\"")}}}""");

    /// <summary>The `vpc.amazonaws.com/pod-eni` annotation the agent writes for VLAN <paramref name="vlan"/>.</summary>
    public static string Annotation(int vlan, string? eniId = null) =>
        $$"""[{"eniId":"{{eniId ?? $"eni-0f{vlan}"}}","ifAddress":"{{Mac(vlan)}}","privateIp":"{{Ip4(vlan)}}","ipv6Addr":"","vlanId":{{vlan}},"subnetCidr":"10.77.0.0/16","subnetV6Cidr":"","associationID":"trunk-assoc-{{vlan}}"}]""";

    /// <summary>Runs a debug command in process against this node; returns exit code, stdout, stderr.</summary>
    public async Task<(int Code, string Out, string Err)> RunAsync(params string[] args)
    {
        var root = AgentCommandLine.Build((_, _) => Task.FromResult(0), _ => null,
            DebugCommands.Create(_ => null, VethVlanStandIn.Recognising));
        var all = args.Concat(["--netns", $"/run/netns/{Node}", "--state-dir", StateDir, "--cni-conf-dir", ConfDir,
            "--cni-bin-dir", BinDir, "--health-address", "127.0.0.1:1"]).ToArray();
        using var output = new StringWriter(CultureInfo.InvariantCulture);
        using var error = new StringWriter(CultureInfo.InvariantCulture);
        var code = await root.Parse(all).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>Links, routes of every table and rules of the node, without what changes on its own (counters).</summary>
    public string KernelState() =>
        Ip($"-n {Node} -o link show").Split('\n').Select(l => l.Split(" state ")[0]).Aggregate("", (a, l) => a + l + "\n")
        + Ip($"-n {Node} route show table all") + Ip($"-n {Node} rule show");

    public string Ip(string args) => Run("ip", args);

    public static string Sh(string command) => Run("sh", $"-c \"{command}\"");

    public static string LinkMac(string ns, string link) =>
        Run("cat", $"/sys/class/net/{link}/address", ns).Trim();

    public void Dispose()
    {
        foreach (var ns in Enumerable.Reverse(_namespaces))
        {
            try
            {
                Run("ip", $"netns del {ns}");
            }
            catch (InvalidOperationException)
            {
                // Already gone: nothing to undo.
            }
        }

        Directory.Delete(Dir, recursive: true);
    }

    private string AddNamespace(string name)
    {
        Run("ip", $"netns add {name}");
        _namespaces.Add(name);
        Run("ip", $"-n {name} link set lo up");
        return name;
    }

    private static string Run(string file, string args, string? ns = null)
    {
        var psi = ns is null ? new ProcessStartInfo(file, args) : new ProcessStartInfo("ip", $"netns exec {ns} {file} {args}");
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd();
        var error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return p.ExitCode == 0 ? output : throw new InvalidOperationException($"{psi.FileName} {psi.Arguments}: {error}");
    }
}
