using System.Diagnostics;
using System.Text.Json;
using BranchEni.Agent.Tests.Sandbox;
using BranchEni.Testing;

namespace BranchEni.Agent.Tests.EndToEnd;

/// <summary>
/// Issue 17's defect, end to end: kubelet runs the CNI (the published binary, with its API reader branch-eni-kube and
/// the sandbox's kubeconfig) for a pod before the agent has acted. A pod a SecurityGroupPolicy selects, by pod labels
/// or by service-account labels, gets error 11 naming the policy and never reaches the delegate; a pod nothing selects
/// is delegated; once the real agent has acted, the same ADD selects the pod's branch ENI.
/// </summary>
public sealed class FailClosedRaceTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private const string Sg = "sg-0a1b2c3d4e5f62002";

    [Fact]
    public async Task Before_the_agent_acts_selected_pods_get_error_11_and_only_the_unselected_pod_is_delegated()
    {
        await using var world = await AgentWorld.CreateAsync();
        await world.Kube.CreateServiceAccountAsync("app", "db-sa", "team=db");
        await world.Kube.CreateSgpAsync("app", "by-pod", $$$"""{"podSelector": {"matchLabels": {"role": "green"}}, "securityGroups": {"groupIds": ["{{{Sg}}}"]}}""");
        await world.Kube.CreateSgpAsync("app", "by-account", $$$"""{"serviceAccountSelector": {"matchLabels": {"team": "db"}}, "securityGroups": {"groupIds": ["{{{Sg}}}"]}}""");
        var green = Uid(await world.Kube.CreatePodAsync("app", "green", AgentWorld.NodeName, "role=green"));
        var worker = Uid(await world.Kube.CreatePodAsync("app", "worker", AgentWorld.NodeName, "role=worker", serviceAccount: "db-sa"));
        var red = Uid(await world.Kube.CreatePodAsync("app", "red", AgentWorld.NodeName, "role=red"));
        var cni = new Cni(world);

        var refused = cni.Add("green", green);
        Assert.Equal(11, refused.Code);
        Assert.Contains("SecurityGroupPolicy by-pod selects it", refused.Msg, StringComparison.Ordinal);
        var byAccount = cni.Add("worker", worker);
        Assert.Equal(11, byAccount.Code);
        Assert.Contains("SecurityGroupPolicy by-account selects it", byAccount.Msg, StringComparison.Ordinal);
        Assert.False(File.Exists(cni.DelegateRan), "the delegate ran for a pod that must have a branch ENI");

        var delegated = cni.Add("red", red);
        Assert.Null(delegated.Code);
        Assert.Equal("red", File.ReadAllText(cni.DelegateRan).Trim());

        // The agent acts: decision, branch ENI, record. The same ADD now selects green's branch (it then stops at the
        // pod's network namespace, which this test does not make: the branch plumbing itself is the micro-VM's).
        var agent = world.StartAgent();
        await AgentWorld.EventuallyAsync(() => Task.FromResult(agent.Records.ReadPod(green) is not null), Wait, "green's record");
        var record = agent.Records.ReadPod(green)!;
        var after = cni.Add("green", green);
        Assert.Equal(4, after.Code);
        Assert.Contains(File.ReadLines(cni.Log), l => l.Contains("branch {EniId} VLAN {VlanId}", StringComparison.Ordinal) && l.Contains(record.EniId!, StringComparison.Ordinal));
    }

    private static string Uid(System.Text.Json.Nodes.JsonNode pod) => pod["metadata"]!["uid"]!.GetValue<string>();

    /// <summary>Runs the published branch-eni as kubelet would, with a delegate that only records that it ran.</summary>
    internal sealed class Cni
    {
        private readonly string _dir;
        private readonly string _config;

        public Cni(AgentWorld world)
        {
            _dir = Directory.CreateTempSubdirectory("branch-eni-race-").FullName;
            DelegateRan = Path.Combine(_dir, "delegate-ran");
            Log = Path.Combine(_dir, "plugin.log");
            var fake = Path.Combine(_dir, "bin", "record-delegate");
            Directory.CreateDirectory(Path.GetDirectoryName(fake)!);
            File.WriteAllText(fake, $"#!/bin/sh\necho \"$CNI_ARGS\" | sed 's/.*K8S_POD_NAME=\\([^;]*\\).*/\\1/' > {DelegateRan}\necho '{{\"cniVersion\":\"1.0.0\",\"ips\":[]}}'\n");
            File.SetUnixFileMode(fake, (UnixFileMode)0b111_101_101);
            _config = JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["cniVersion"] = "1.0.0", ["name"] = "pods", ["type"] = "branch-eni", ["stateDir"] = world.Options.StateDir,
                ["kubeconfig"] = world.Sandbox.KubeconfigPath, ["annotationWaitSeconds"] = 1, ["logFile"] = Log, ["logLevel"] = "debug",
                ["delegate"] = new Dictionary<string, string> { ["type"] = "record-delegate" },
            });
        }

        public string DelegateRan { get; }

        public string Log { get; }

        public (int? Code, string Msg) Add(string pod, string uid)
        {
            var psi = new ProcessStartInfo(RepoPaths.RequireCniBinary()) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
            psi.Environment["CNI_COMMAND"] = "ADD";
            psi.Environment["CNI_CONTAINERID"] = $"ctr-{pod}";
            psi.Environment["CNI_NETNS"] = Path.Combine(_dir, "no-such-netns");
            psi.Environment["CNI_IFNAME"] = "eth0";
            psi.Environment["CNI_PATH"] = Path.Combine(_dir, "bin");
            psi.Environment["CNI_ARGS"] = $"IgnoreUnknown=1;K8S_POD_NAMESPACE=app;K8S_POD_NAME={pod};K8S_POD_UID={uid}";
            using var process = Process.Start(psi)!;
            process.StandardInput.Write(_config);
            process.StandardInput.Close();
            var output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode == 0)
            {
                return (null, output);
            }

            var error = JsonDocument.Parse(output).RootElement;
            return (error.GetProperty("code").GetInt32(), error.GetProperty("msg").GetString()!);
        }
    }
}
