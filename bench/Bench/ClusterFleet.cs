using System.Diagnostics;
using BranchEni.Testing;

namespace BranchEni.Bench;

/// <summary>One node of the soak: its agent's identity and the agent process currently running for it.</summary>
internal sealed class NodeSlot(string node, string instanceId, Uri imds, string stateDir, string health)
{
    public string Node { get; } = node;
    public string InstanceId { get; } = instanceId;
    public Uri Imds { get; } = imds;
    public string StateDir { get; } = stateDir;
    public string Health { get; } = health;
    public Process? Agent { get; set; }
    public int Restarts { get; set; }

    /// <summary>Its instance was terminated: the agent is gone for good.</summary>
    public bool Retired { get; set; }
}

/// <summary>
/// The processes of the soak: one native-AOT agent per node (each with its node's name, its own IMDS listener, state
/// directory and health address, as the DaemonSet's pod on that node would have) and the controller's replicas. Every
/// process writes its output to a log file in the run's directory, kept when the group fails.
/// </summary>
internal sealed class ClusterFleet(string dir, string kubeconfig, Uri ec2) : IDisposable
{
    private readonly List<Process> _controllers = [];
    private readonly Dictionary<string, StreamWriter> _logs = new(StringComparer.Ordinal);

    public static string ControllerBinary => Path.Combine(RepoPaths.Root, "artifacts", "bench", "controller", "branch-eni-controller");

    public List<NodeSlot> Nodes { get; } = [];

    public IReadOnlyList<Process> Controllers => _controllers;

    public NodeSlot AddNode(string node, string instanceId, Uri imds)
    {
        var slot = new NodeSlot(node, instanceId, imds, Path.Combine(dir, node), $"127.0.0.1:{AgentBench.ListenPort()}");
        Directory.CreateDirectory(slot.StateDir);
        Nodes.Add(slot);
        return slot;
    }

    /// <summary>Starts (or restarts, as the DaemonSet does after a crash) the node's agent.</summary>
    public void StartAgent(NodeSlot slot)
    {
        var env = new Dictionary<string, string>
        {
            ["ENABLE_POD_ENI"] = "true",
            ["CLUSTER_NAME"] = ClusterBench.ClusterName,
            ["NODE_NAME"] = slot.Node,
            ["KUBECONFIG"] = kubeconfig,
            ["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = slot.Imds.ToString().TrimEnd('/'),
            ["BRANCH_ENI_EC2_ENDPOINT"] = ec2.ToString(),
            ["BRANCH_ENI_STATE_DIR"] = Path.Combine(slot.StateDir, "records"),
            ["BRANCH_ENI_CNI_BIN_DIR"] = "",
            ["BRANCH_ENI_CNI_CONF_DIR"] = "",
            ["BRANCH_ENI_HEALTH_ADDRESS"] = slot.Health,
            ["BRANCH_ENI_METRICS_ADDRESS"] = "",
            // The shortest the agent allows, so the delete phase is not mostly waiting.
            ["BRANCH_ENI_COOLDOWN_SECONDS"] = ClusterBench.AgentCooldownSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            // BRANCH_ENI_BENCH_AGENT_LOG_LEVEL=debug keeps every retry and AIMD cut in the agents' logs.
            ["AWS_VPC_K8S_CNI_LOGLEVEL"] = Environment.GetEnvironmentVariable("BRANCH_ENI_BENCH_AGENT_LOG_LEVEL") is { Length: > 0 } level ? level : "info",
        };
        slot.Agent = Start(AgentBench.Binary, ["run"], env, $"{slot.Node}.log");
    }

    /// <summary>kill -9 and wait for the process to be gone (SIGKILL: no shutdown path runs).</summary>
    public static void Kill9(Process process)
    {
        if (!process.HasExited)
        {
            process.Kill();
        }

        process.WaitForExit();
    }

    /// <summary>One controller replica with the leader's cleanup on short timings; the webhooks listen, but the sandbox has
    /// no webhook configurations, so the API server never calls them (admission is not what the soak measures).</summary>
    public void StartController(int replica, int cleanupIntervalSeconds, int cleanupCooldownSeconds)
    {
        var webhook = $"127.0.0.1:{AgentBench.ListenPort()}";
        string[] args =
        [
            "run", "--kubeconfig", kubeconfig, "--webhook-address", webhook, "--webhook-url", $"https://{webhook}",
            "--health-address", $"127.0.0.1:{AgentBench.ListenPort()}", "--cluster-name", ClusterBench.ClusterName,
            "--eni-cleanup-interval-seconds", cleanupIntervalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--eni-cleanup-cooldown-seconds", cleanupCooldownSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ];
        var env = new Dictionary<string, string>
        {
            ["POD_NAME"] = $"branch-eni-controller-{replica}",
            ["POD_NAMESPACE"] = "kube-system",
            ["BRANCH_ENI_EC2_ENDPOINT"] = ec2.ToString(),
            ["AWS_REGION"] = "us-west-2",
        };
        _controllers.Add(Start(ControllerBinary, args, env, $"controller-{replica}.log"));
    }

    /// <summary>Resident memory of a running process, in MB.</summary>
    public static double RssMb(Process process) => AgentBench.StatusKb(process.Id, "VmRSS") / 1024.0;

    public void Dispose()
    {
        foreach (var process in Nodes.Select(n => n.Agent).Concat(_controllers).OfType<Process>())
        {
            try
            {
                Kill9(process);
            }
            catch (InvalidOperationException)
            {
                // never started
            }

            process.Dispose();
        }

        lock (_logs)
        {
            foreach (var log in _logs.Values)
            {
                log.Dispose();
            }

            _logs.Clear();
        }
    }

    private Process Start(string binary, IEnumerable<string> args, Dictionary<string, string> env, string logName)
    {
        if (!File.Exists(binary))
        {
            throw new FileNotFoundException($"{binary} is missing; bench.sh publishes it");
        }

        var start = new ProcessStartInfo(binary) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (k, v) in env)
        {
            start.Environment[k] = v;
        }

        start.Environment["AWS_ACCESS_KEY_ID"] = "AKIDEXAMPLE";
        start.Environment["AWS_SECRET_ACCESS_KEY"] = "secret";
        StreamWriter log;
        lock (_logs)
        {
            // One writer per log: a restarted agent appends to its node's log.
            if (!_logs.TryGetValue(logName, out log!))
            {
                log = new StreamWriter(Path.Combine(dir, logName));
                _logs[logName] = log;
            }
        }

        var process = Process.Start(start)!;
        DataReceivedEventHandler write = (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (log)
                {
                    log.WriteLine(e.Data);
                }
            }
        };
        process.OutputDataReceived += write;
        process.ErrorDataReceived += write;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }
}
