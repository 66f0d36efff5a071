using BranchEni.Agent.Ec2;
using BranchEni.Agent.Kubernetes;
using BranchEni.Agent.Node;
using Serilog;

namespace BranchEni.Agent;

internal sealed partial class Agent
{
    /// <summary>Retries a startup step until it works or the agent stops: jittered exponential backoff up to 30 s,
    /// each failure logged and the first one posted as a node event.</summary>
    private async Task<T> RetryAsync<T>(string what, Func<CancellationToken, Task<T>> step, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await step(ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                var delay = TimeSpan.FromMilliseconds(Random.Shared.Next(500, 1000) * Math.Min(30, Math.Pow(2, attempt - 1)));
                log.Error("Could not {What} (attempt {Attempt}): {Error}; retrying in {DelayMs} ms", what, attempt, e.Message, (int)delay.TotalMilliseconds);
                _notReady = $"could not {what}: {e.Message}";
                if (attempt == 1)
                {
                    await Events.NodeAsync(options.NodeName!, "Warning", "BranchEniAgentStartup", $"could not {what}: {e.Message}", ct).ConfigureAwait(false);
                }

                await Task.Delay(delay, ct).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The trunk's link up and the node's kernel settings, retried until they work: a hot-attached ENI can
    /// take a while to show up as a device. Branch provisioning does not wait for it; readiness (and so the CNI
    /// install) does. The first failure is posted as a node event.</summary>
    private async Task PrepareNodeAsync(Trunk trunk, InstanceIdentity identity, CancellationToken ct)
    {
        var node = new NodePreparer(options.NetworkNamespace, log);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var link = await node.BringUpTrunkAsync(trunk.MacAddress, options.TrunkLinkWait, ct).ConfigureAwait(false);
                node.PrepareNode(identity.PrimaryMac, options.EnforcingMode, options.DisableTcpEarlyDemux);
                Records.WriteTrunk(new Contracts.TrunkRecord(trunk.EniId, trunk.MacAddress, link));
                return;
            }
            catch (Exception e) when (e is NodePreparationException or Netlink.NetlinkException or IOException or UnauthorizedAccessException)
            {
                log.Error("Node preparation failed (attempt {Attempt}): {Error}", attempt, e.Message);
                if (attempt == 1)
                {
                    await Events.NodeAsync(options.NodeName!, "Warning", "TrunkLinkNotReady", $"node preparation failed: {e.Message}", ct).ConfigureAwait(false);
                }

                await Task.Delay(TimeSpan.FromSeconds(Math.Min(30, attempt)), ct).ConfigureAwait(false);
            }
        }
    }

    private async Task BecomeReadyAsync(CancellationToken ct)
    {
        _notReady = null;
        log.Information("Agent is ready");
        try
        {
            new CniInstaller(options, log).Install();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NodePreparationException or Configuration.OptionsException or System.Text.Json.JsonException)
        {
            // Without the conflist kubelet keeps the node NotReady, which is the honest state; say why.
            log.Error("Could not install the CNI: {Error}", e.Message);
            await Events.NodeAsync(options.NodeName!, "Warning", "CniInstallFailed", e.Message, ct).ConfigureAwait(false);
        }
    }

    private async Task CollectGarbageAsync(ClusterView cluster, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(options.GcInterval, ct).ConfigureAwait(false);
                await Inventory!.CollectAsync(uid => cluster.Pod(uid) is { Finished: false }, ct).ConfigureAwait(false);
                Decisions.Sweep(uid => cluster.Pod(uid) is not null);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                log.Warning("Garbage collection pass failed: {Error}", e.Message);
            }
        }
    }
}
