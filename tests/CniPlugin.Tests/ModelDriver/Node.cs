using System.Diagnostics;
using System.Globalization;
using System.Text;
using BranchEni.Contracts;
using BranchEni.Netlink;

namespace BranchEni.Cni.ModelDriver;

/// <summary>
/// A fresh node for one run of a sequence: its own network namespace with a trunk (a veth into a "vpc" namespace; the
/// VLAN links are real 802.1Q on it), one namespace per pod, and a state directory with the agent's records
/// (trunk.json, pods/&lt;uid&gt;.json) and the node lock. Every name carries the node's number, so a replay never meets
/// what an earlier run left; disposing deletes the namespaces and with them every link.
/// </summary>
internal sealed class Node : IDisposable
{
    public const int Mtu = 9001;
    public const string TrunkName = "trunk0";
    private static int created;

    private readonly string binary;
    private readonly string prefix;
    private readonly IReadOnlyList<PodSpec> pods;
    private readonly NetworkNamespace nodeNs;

    public Node(string binary, IReadOnlyList<PodSpec> pods)
    {
        this.binary = binary;
        this.pods = pods;
        prefix = "r2n" + Interlocked.Increment(ref created).ToString(CultureInfo.InvariantCulture);
        StateDir = $"/run/r2/{prefix}";
        IpBatch(Namespaces().Select(n => $"netns add {n}"));
        nodeNs = NetworkNamespace.Open(NetnsPath(prefix));
        Handle = NetlinkHandle.Open(nodeNs);
        using (var vpc = NetworkNamespace.Open(NetnsPath(prefix + "v")))
        {
            Handle.AddVethPair(new VethPairSpec { Name = TrunkName, PeerName = "trunkpeer", PeerNamespace = vpc });
        }

        var trunk = Handle.GetLink(TrunkName);
        Handle.SetLinkUp(trunk.Index);
        var records = new NodeRecords(StateDir);
        records.WriteTrunk(new TrunkRecord("eni-0f2000", BranchEniAssignment.FormatMac(trunk.Mac!), TrunkName));
        foreach (var pod in pods)
        {
            records.WritePod(pod.Record);
        }
    }

    public string StateDir { get; }

    /// <summary>A netlink handle in the node's namespace (the snapshots, and the self-test's fault).</summary>
    public NetlinkHandle Handle { get; }

    public string PodNetns(PodSpec pod) => NetnsPath($"{prefix}{pod.Name}");

    /// <summary>Runs the published plugin once in the node's namespace, the way a runtime does: CNI_* in the
    /// environment, the network config on stdin.</summary>
    public async Task<CniAnswer> InvokeAsync(string command, PodSpec? pod, string? containerId, string config)
    {
        var psi = new ProcessStartInfo(binary)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.Environment.Clear();
        psi.Environment["CNI_COMMAND"] = command;
        psi.Environment["CNI_PATH"] = "/usr/lib/cni";
        if (pod is not null)
        {
            psi.Environment["CNI_CONTAINERID"] = containerId;
            psi.Environment["CNI_NETNS"] = PodNetns(pod);
            psi.Environment["CNI_IFNAME"] = "eth0";
            psi.Environment["CNI_ARGS"] = $"IgnoreUnknown=1;K8S_POD_NAMESPACE={PodSpec.Namespace};K8S_POD_NAME={pod.Name};K8S_POD_UID={pod.Uid}";
        }

        var clock = Stopwatch.StartNew();
        // The child inherits the namespace of the thread that forks it: a dedicated thread that entered the node's.
        using var process = nodeNs.Run(() => Process.Start(psi)) ?? throw new InvalidOperationException($"cannot start {binary}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardInput.WriteAsync(config).ConfigureAwait(false);
        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            return new CniAnswer(-1, await stdout.ConfigureAwait(false), "killed after 120 s", clock.Elapsed);
        }

        return new CniAnswer(process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false), clock.Elapsed);
    }

    /// <summary>The network config a runtime passes for a pod: its version and mode, our state dir and
    /// log, and prevResult when given.</summary>
    public string Config(string version, string mode, string? prevResult = null, IEnumerable<string>? validContainerIds = null)
    {
        var json = new StringBuilder();
        json.Append(CultureInfo.InvariantCulture,
            $"{{\"cniVersion\":\"{version}\",\"name\":\"pods\",\"type\":\"branch-eni\",\"stateDir\":\"{StateDir}\",\"enforcingMode\":\"{mode}\",");
        json.Append(CultureInfo.InvariantCulture, $"\"logFile\":\"{StateDir}/plugin.log\",\"logLevel\":\"info\"");
        if (prevResult is not null)
        {
            json.Append(",\"prevResult\":").Append(prevResult);
        }

        if (validContainerIds is not null)
        {
            json.Append(",\"cni.dev/valid-attachments\":[")
                .AppendJoin(',', validContainerIds.Select(id => $"{{\"containerID\":\"{id}\",\"ifname\":\"eth0\"}}"))
                .Append(']');
        }

        return json.Append('}').ToString();
    }

    /// <summary>The plugin's log of this node (kept for a failure's report).</summary>
    public string LogTail(int lines)
    {
        var path = Path.Combine(StateDir, "plugin.log");
        return File.Exists(path) ? string.Join('\n', File.ReadLines(path).TakeLast(lines)) : "(no plugin log)";
    }

    public void Dispose()
    {
        Handle.Dispose();
        nodeNs.Dispose();
        IpBatch(Namespaces().Select(n => $"netns del {n}"));
        Directory.Delete(StateDir, recursive: true);
    }

    private IEnumerable<string> Namespaces() => new[] { prefix, prefix + "v" }.Concat(pods.Select(p => prefix + p.Name));

    private static string NetnsPath(string name) => "/run/netns/" + name;

    /// <summary>`ip -batch`: one process for all of a node's namespaces (a process start costs ~90 ms under TCG, measured).</summary>
    private static void IpBatch(IEnumerable<string> commands)
    {
        var psi = new ProcessStartInfo("ip", ["-batch", "-"]) { RedirectStandardInput = true, RedirectStandardError = true, UseShellExecute = false };
        using var ip = Process.Start(psi) ?? throw new InvalidOperationException("cannot start ip");
        foreach (var command in commands)
        {
            ip.StandardInput.WriteLine(command);
        }

        ip.StandardInput.Close();
        var errors = ip.StandardError.ReadToEnd();
        ip.WaitForExit();
        if (ip.ExitCode != 0)
        {
            throw new InvalidOperationException($"ip -batch failed ({ip.ExitCode}): {errors}");
        }
    }
}

/// <summary>One plugin process's answer: exit status, stdout (result or error JSON), stderr, how long it took.</summary>
internal sealed record CniAnswer(int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed)
{
    public override string ToString() => $"exit {ExitCode}: {Stdout.Trim()}{(Stderr.Length > 0 ? " stderr: " + Stderr.Trim() : "")}";
}
