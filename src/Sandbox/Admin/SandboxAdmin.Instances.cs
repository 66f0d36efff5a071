using BranchEni.Sandbox.Kubernetes;
using BranchEni.Sandbox.Seed;

namespace BranchEni.Sandbox.Admin;

/// <summary>What <see cref="SandboxAdmin.TerminateInstance"/> did, for the caller to check.</summary>
public sealed class TerminationReport
{
    public string InstanceId { get; set; } = "";

    /// <summary>True when the instance was already terminated: nothing changed.</summary>
    public bool AlreadyTerminated { get; set; }

    /// <summary>Attached with DeleteOnTermination (the primary, and a trunk the agent attached that way).</summary>
    public List<string> DeletedNetworkInterfaces { get; set; } = [];

    /// <summary>Attached without DeleteOnTermination: detached and left available.</summary>
    public List<string> DetachedNetworkInterfaces { get; set; } = [];

    /// <summary>Branches whose trunk association ended: left available, tags intact.</summary>
    public List<string> DisassociatedBranches { get; set; } = [];

    public List<string> DeletedNodes { get; set; } = [];

    /// <summary>"namespace/name" of the pods bound to a deleted node (the pod garbage collector's work).</summary>
    public List<string> DeletedPods { get; set; } = [];
}

/// <summary>Instances launched and terminated at runtime, with their IMDS listeners and Kubernetes Nodes.</summary>
public sealed partial class SandboxAdmin
{
    /// <summary>Set by the host: starts the new instance's IMDS listener (and rewrites endpoints.json).</summary>
    internal Action<string>? InstanceLaunched { get; set; }

    /// <summary>Set by the host: stops the terminated instance's IMDS listener (and rewrites endpoints.json).</summary>
    internal Action<string>? InstanceTerminated { get; set; }

    /// <summary>
    /// Launches another instance (its primary ENI included) into the running sandbox with its own IMDS listener
    /// (<c>Endpoints.ImdsByInstance</c>) and, when a node name is given, registers the matching Kubernetes Node
    /// (labels, providerID, InternalIP) as a joining kubelet would.
    /// </summary>
    public string AddInstance(InstanceSeed instance, string? nodeName = null)
    {
        ArgumentNullException.ThrowIfNull(instance);
        string zone, ip;
        lock (_state.Gate)
        {
            var added = _state.AddInstance(instance);
            zone = added.AvailabilityZone;
            ip = _state.Eni(added.PrimaryEniId).PrivateIp.ToString();
        }

        InstanceLaunched?.Invoke(instance.Id);
        if (nodeName is not null)
        {
            _kubernetes.Create(ResourceTypes.Nodes, null,
                SeedObjects.Node(nodeName, instance.Id, instance.InstanceType, zone, ip, _state.Region));
        }

        return instance.Id;
    }

    /// <summary>
    /// Terminates an instance as EC2 does (see Ec2State.Terminate): ENIs attached with DeleteOnTermination are deleted,
    /// others detached, the trunk's branches disassociated and left available. Its IMDS listener stops; its Node is
    /// deleted and so are the pods bound to it, as the pod garbage collector does for pods of a node that is gone.
    /// A second call is a no-op; an unknown id throws <see cref="KeyNotFoundException"/> and changes nothing.
    /// </summary>
    public TerminationReport TerminateInstance(string instanceId)
    {
        Ec2.Model.TerminationResult result;
        lock (_state.Gate)
        {
            if (string.IsNullOrEmpty(instanceId) || !_state.Instances.Any(i => i.Id == instanceId && _state.Visible(i)))
            {
                throw new KeyNotFoundException($"instance '{instanceId}' does not exist");
            }

            result = _state.Terminate(instanceId);
        }

        var report = new TerminationReport
        {
            InstanceId = result.InstanceId,
            AlreadyTerminated = result.AlreadyTerminated,
            DeletedNetworkInterfaces = [.. result.Deleted],
            DetachedNetworkInterfaces = [.. result.Detached],
            DisassociatedBranches = [.. result.Disassociated],
        };
        if (result.AlreadyTerminated)
        {
            return report;
        }

        InstanceTerminated?.Invoke(instanceId);
        DeleteNodesOf(instanceId, report);
        return report;
    }

    private void DeleteNodesOf(string instanceId, TerminationReport report)
    {
        var (nodes, _) = _kubernetes.List(ResourceTypes.Nodes, null,
            n => Meta.Str(n, "spec", "providerID") is { } p && p.EndsWith("/" + instanceId, StringComparison.Ordinal));
        foreach (var node in nodes)
        {
            var name = Meta.Name(node);
            if (TryDelete(ResourceTypes.Nodes, null, name))
            {
                report.DeletedNodes.Add(name);
            }

            var (pods, _) = _kubernetes.List(ResourceTypes.Pods, null, p => Meta.Str(p, "spec", "nodeName") == name);
            foreach (var pod in pods)
            {
                if (TryDelete(ResourceTypes.Pods, Meta.Namespace(pod), Meta.Name(pod)))
                {
                    report.DeletedPods.Add($"{Meta.Namespace(pod)}/{Meta.Name(pod)}");
                }
            }
        }
    }

    /// <summary>Someone else may delete it first (the test, a controller); gone is what we wanted.</summary>
    private bool TryDelete(ResourceType type, string? ns, string name)
    {
        try
        {
            _kubernetes.Delete(type, ns, name, uid: null, resourceVersion: null);
            return true;
        }
        catch (KubeException e) when (e.Code == 404)
        {
            return false;
        }
    }
}
