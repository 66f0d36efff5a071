using System.Globalization;
using BranchEni.Kube;
using BranchEni.Policy;
using Serilog;

namespace BranchEni.Agent.Kubernetes;

/// <summary>
/// Keeps this node's `status.capacity["vpc.amazonaws.com/pod-eni"]` at the branch limit and, with a trunk, the label
/// `vpc.amazonaws.com/has-trunk-attached=true`; restores either when something (a kubelet status update, an operator)
/// removes it. Driven by the node informer.
/// </summary>
internal sealed class NodeStatusKeeper(KubeApi api, Informer<NodeView> node, string nodeName, int capacity, bool trunkAttached, EventSink events, ILogger log)
{
    private readonly SemaphoreSlim _changed = new(1, 1);

    public async Task RunAsync(CancellationToken ct)
    {
        node.Changed += (_, _) =>
        {
            if (_changed.CurrentCount == 0)
            {
                _changed.Release();
            }
        };
        var failures = 0;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await EnsureAsync(ct).ConfigureAwait(false);
                failures = 0;
                await _changed.WaitAsync(ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                failures++;
                log.Warning("Could not patch node {Node}: {Error}", nodeName, e.Message);
                await Task.Delay(TimeSpan.FromMilliseconds(200 * Math.Pow(2, Math.Min(failures, 7))), ct).ConfigureAwait(false);
            }
        }
    }

    private async Task EnsureAsync(CancellationToken ct)
    {
        var current = node.Get(nodeName);
        var want = capacity.ToString(CultureInfo.InvariantCulture);
        if (current?.PodEniCapacity != want)
        {
            await api.PatchNodeCapacityAsync(nodeName, PodEni.Resource, want, ct).ConfigureAwait(false);
            log.Information("Node {Node} capacity {Resource} set to {Capacity} (was {Previous})", nodeName, PodEni.Resource, want, current?.PodEniCapacity ?? "unset");
            if (current?.PodEniCapacity is not null)
            {
                await events.NodeAsync(nodeName, "Normal", "CapacityRestored", $"{PodEni.Resource} capacity restored to {want}", ct).ConfigureAwait(false);
            }
        }

        if (trunkAttached && current?.HasTrunkLabel != "true")
        {
            await api.PatchNodeLabelAsync(nodeName, NodeView.HasTrunkLabelKey, "true", ct).ConfigureAwait(false);
            log.Information("Node {Node} labelled {Label}=true", nodeName, NodeView.HasTrunkLabelKey);
        }
    }
}
