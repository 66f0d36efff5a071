using k8s.Models;
using Serilog;

namespace BranchEni.Agent.Kubernetes;

/// <summary>Posts Kubernetes events and never lets a failure to post one stop the agent (it is logged).</summary>
internal sealed class EventSink(KubeApi api, ILogger log)
{
    public const string SecurityGroupRequested = "SecurityGroupRequested";
    public const string ResourceAllocated = "ResourceAllocated";
    public const string BranchAllocationFailed = "BranchAllocationFailed";
    public const string InvalidSecurityGroups = "InvalidSecurityGroups";

    public Task PodAsync(PodView pod, string type, string reason, string message, CancellationToken ct) =>
        PostAsync(new V1ObjectReference { Kind = "Pod", ApiVersion = "v1", NamespaceProperty = pod.Namespace, Name = pod.Name, Uid = pod.Uid },
            type, reason, message, ct);

    public Task NodeAsync(string node, string type, string reason, string message, CancellationToken ct) =>
        PostAsync(new V1ObjectReference { Kind = "Node", ApiVersion = "v1", Name = node, NamespaceProperty = "default" }, type, reason, message, ct);

    public Task PolicyAsync(string key, string reason, string message, CancellationToken ct)
    {
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        var reference = new V1ObjectReference
        {
            Kind = "SecurityGroupPolicy",
            ApiVersion = "vpcresources.k8s.aws/v1beta1",
            NamespaceProperty = slash > 0 ? key[..slash] : "default",
            Name = slash > 0 ? key[(slash + 1)..] : key,
        };
        return PostAsync(reference, "Warning", reason, message, ct);
    }

    private async Task PostAsync(V1ObjectReference about, string type, string reason, string message, CancellationToken ct)
    {
        try
        {
            await api.CreateEventAsync(about, type, reason, message, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            log.Warning("Could not post event {Reason} about {Kind} {Name}: {Error}", reason, about.Kind, about.Name, e.Message);
        }
    }
}
