using System.Text.Json.Nodes;
using BranchEni.Sandbox.Seed;

namespace BranchEni.Sandbox.Kubernetes;

/// <summary>What a fresh cluster has: the system namespaces (each with its default service account) and the nodes.</summary>
internal static class SeedObjects
{
    /// <summary>Facts about an instance for its Node object: type, zone, private IP.</summary>
    public delegate (string InstanceType, string Zone, string PrivateIp)? InstanceFacts(string instanceId);

    public static void Apply(KubernetesStore store, SandboxSeed seed, InstanceFacts facts)
    {
        foreach (var ns in new[] { "default", "kube-system", "kube-public", "kube-node-lease" })
        {
            store.Create(ResourceTypes.Namespaces, null, new JsonObject { ["metadata"] = new JsonObject { ["name"] = ns } });
        }

        var nodes = seed.Nodes ?? seed.Instances.Select((i, n) => new NodeSeed { Name = $"node-{n + 1}", InstanceId = i.Id }).ToList();
        foreach (var node in nodes)
        {
            var f = facts(node.InstanceId) ?? throw new ArgumentException($"node '{node.Name}': instance '{node.InstanceId}' is not seeded");
            store.Create(ResourceTypes.Nodes, null, Node(node.Name, node.InstanceId, f.InstanceType, f.Zone, f.PrivateIp, seed.Region));
        }
    }

    public static JsonObject Node(string name, string instanceId, string instanceType, string zone, string ip, string region)
    {
        var resources = new JsonObject { ["cpu"] = "2", ["memory"] = "7970512Ki", ["pods"] = "29", ["ephemeral-storage"] = "20959212Ki" };
        return new JsonObject
        {
            ["metadata"] = new JsonObject
            {
                ["name"] = name,
                ["labels"] = new JsonObject
                {
                    ["kubernetes.io/hostname"] = name,
                    ["kubernetes.io/os"] = "linux",
                    ["kubernetes.io/arch"] = "amd64",
                    ["node.kubernetes.io/instance-type"] = instanceType,
                    ["topology.kubernetes.io/zone"] = zone,
                    ["topology.kubernetes.io/region"] = region,
                },
            },
            ["spec"] = new JsonObject { ["providerID"] = $"aws:///{zone}/{instanceId}" },
            ["status"] = new JsonObject
            {
                ["capacity"] = resources.DeepClone(),
                ["allocatable"] = resources,
                ["addresses"] = new JsonArray(
                    new JsonObject { ["type"] = "InternalIP", ["address"] = ip },
                    new JsonObject { ["type"] = "Hostname", ["address"] = name }),
                ["conditions"] = new JsonArray(new JsonObject
                {
                    ["type"] = "Ready", ["status"] = "True", ["reason"] = "KubeletReady", ["message"] = "kubelet is posting ready status",
                    ["lastHeartbeatTime"] = Meta.Now(), ["lastTransitionTime"] = Meta.Now(),
                }),
                ["nodeInfo"] = new JsonObject
                {
                    ["kubeletVersion"] = "v1.32.0", ["operatingSystem"] = "linux", ["architecture"] = "amd64",
                    ["containerRuntimeVersion"] = "containerd://1.7.0", ["osImage"] = "Debian GNU/Linux 12 (bookworm)",
                    ["kernelVersion"] = "6.1.0", ["kubeProxyVersion"] = "v1.32.0", ["machineID"] = "", ["systemUUID"] = "",
                    ["bootID"] = "",
                },
            },
        };
    }
}
