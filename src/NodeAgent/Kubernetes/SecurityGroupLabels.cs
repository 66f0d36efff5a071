using System.Net;
using BranchEni.Policy;
using Serilog;

namespace BranchEni.Agent.Kubernetes;

/// <summary>
/// Keeps Calico's <c>sg.aws.tigera.io/&lt;sg-id&gt;: ""</c> labels on a branch pod equal to its branch ENI's groups
/// (issue 19): added with the pod-eni annotation, stale ones removed, all removed when the branch is released. They
/// steer NetworkPolicy, so they follow what EC2 enforces, not what anyone asked for; the validating webhook lets only
/// the agents write them. One merge patch with the pod's uid as precondition, like the annotation's.
/// </summary>
internal sealed class SecurityGroupLabels(KubeApi api, ILogger log)
{
    /// <summary>Makes the pod's labels say exactly <paramref name="groups"/>; true when a patch was sent.</summary>
    public async Task<bool> SyncAsync(PodView pod, IReadOnlyCollection<string> groups, CancellationToken ct)
    {
        var wanted = groups.Select(TigeraNames.SecurityGroupLabel).ToHashSet(StringComparer.Ordinal);
        var patch = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var label in wanted.Where(l => !pod.Labels.TryGetValue(l, out var value) || value.Length != 0))
        {
            patch[label] = "";
        }

        foreach (var stale in pod.SecurityGroupLabels.Where(l => !wanted.Contains(l)))
        {
            patch[stale] = null;
        }

        if (patch.Count == 0)
        {
            return false;
        }

        try
        {
            await api.PatchPodLabelsAsync(pod.Namespace, pod.Name, pod.Uid, patch, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (KubeApi.IsStatus(e, HttpStatusCode.NotFound) || KubeApi.IsStatus(e, HttpStatusCode.Conflict))
        {
            // Gone, or the name belongs to another pod now: there is nothing of this pod left to label.
            log.Information("Pod {Namespace}/{Pod} ({PodUid}) vanished before its security-group labels were written", pod.Namespace, pod.Name, pod.Uid);
            return false;
        }

        log.Information("Pod {Namespace}/{Pod}: security-group labels set to [{Groups}]", pod.Namespace, pod.Name, string.Join(", ", groups));
        return true;
    }
}
