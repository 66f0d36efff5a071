using BranchEni.Cni.Tests.Corpus;
using BranchEni.Testing;

namespace BranchEni.Bench;

/// <summary>
/// What failing closed costs a pod nothing selects (issue 17): ADD then DEL through branch-eni, which decides from the
/// agent's decision record and hands the pod to Debian's ptp, against ptp alone doing the same; and the API fallback
/// (no decision record: branch-eni-kube reads the pod and the namespace's SecurityGroupPolicies from a small API
/// server on loopback) against the same reference. Host kernel, in a throwaway node and pod namespace.
/// </summary>
internal static class DelegateBench
{
    private const string Uid = "0b8c9d7e-1111-2222-3333-444455556666";

    public static IEnumerable<Measurement> Run()
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        string node = $"bench-dg-node-{suffix}", pod = $"bench-dg-pod-{suffix}", dir = $"/tmp/branch-eni-bench-dg-{suffix}";
        Sh($"ip netns add {node} && ip netns add {pod} && ip -n {node} link set lo up");
        Directory.CreateDirectory(dir);
        try
        {
            using var api = new FakePodApi($"/run/netns/{node}");
            api.Pods["default/plain"] = "{\"metadata\":{\"uid\":\"" + Uid + "\",\"labels\":{\"role\":\"web\"}},\"spec\":{\"containers\":[{}]}}";
            api.Objects["/apis/vpcresources.k8s.aws/v1beta1/namespaces/default/securitygrouppolicies"] =
                """{"items":[{"metadata":{"name":"db","namespace":"default"},"spec":{"podSelector":{"matchLabels":{"role":"db"}},"securityGroups":{"groupIds":["sg-0db"]}}}]}""";
            var ptp = "{\"cniVersion\":\"1.0.0\",\"name\":\"pods\",\"type\":\"ptp\",\"ipMasq\":false,"
                + "\"ipam\":{\"type\":\"host-local\",\"subnet\":\"10.213.90.0/24\",\"dataDir\":\"" + dir + "/ipam\"}}";
            File.WriteAllText($"{dir}/ptp.json", ptp);
            File.WriteAllText($"{dir}/decided.json", Ours(dir, "decided", ptp, kubeconfig: null));
            File.WriteAllText($"{dir}/api.json", Ours(dir, "api", ptp, api.WriteKubeconfig(dir)));
            Directory.CreateDirectory($"{dir}/decided/decisions");
            File.WriteAllText($"{dir}/decided/decisions/{Uid}.json",
                $$"""{"podUid":"{{Uid}}","podNamespace":"default","podName":"plain","branch":false,"reason":"no SecurityGroupPolicy selects it"}""");

            var ms = ExecTimer.CompareMs([AddDel(dir, "ptp.json", "/usr/lib/cni/ptp", pod), AddDel(dir, "decided.json", RepoPaths.RequireCniBinary(), pod),
                AddDel(dir, "api.json", RepoPaths.RequireCniBinary(), pod)], blocks: 5, perBlock: 20, netns: node);
            return
            [
                new Measurement("delegated pod ADD+DEL (decision record) vs ptp alone", ms[1], "Debian ptp ADD+DEL", ms[0], AimRatio: 1.3, AimAbsolute: null),
                // No aim: the agent is down or behind; shown so the reader sees what the API reads cost.
                new Measurement("delegated pod ADD+DEL (API fallback) vs ptp alone", ms[2], "Debian ptp ADD+DEL", ms[0], AimRatio: null, AimAbsolute: null),
            ];
        }
        finally
        {
            Sh($"ip netns del {node}; ip netns del {pod}; rm -rf {dir}");
        }
    }

    private static string Ours(string dir, string state, string ptp, string? kubeconfig) =>
        "{\"cniVersion\":\"1.0.0\",\"name\":\"pods\",\"type\":\"branch-eni\",\"stateDir\":\"" + dir + "/" + state + "\",\"logFile\":\"" + dir + "/" + state
        + ".log\"," + (kubeconfig is null ? "" : "\"kubeconfig\":\"" + kubeconfig + "\",") + "\"delegate\":" + ptp + "}";

    private static string AddDel(string dir, string config, string plugin, string pod)
    {
        var env = $"CNI_CONTAINERID=ctr-bench CNI_NETNS=/run/netns/{pod} CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni "
            + $"CNI_ARGS='IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=plain;K8S_POD_UID={Uid}'";
        return $"CNI_COMMAND=ADD {env} {plugin} < {dir}/{config} > /dev/null && CNI_COMMAND=DEL {env} {plugin} < {dir}/{config} > /dev/null";
    }

    private static void Sh(string command)
    {
        using var p = System.Diagnostics.Process.Start("/bin/sh", ["-c", command]);
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"`{command}` exited {p.ExitCode}");
        }
    }
}
