using System.Globalization;
using System.Text.Json;
using BranchEni.Contracts;

namespace BranchEni.Agent.Cli;

/// <summary>
/// `status`: the trunk (record and link), capacity and VLANs used and free, whether the CNI is installed, the mode,
/// and the agent's health when its loopback endpoint answers. Capacity comes from the agent's /metrics, else the
/// node's `vpc.amazonaws.com/pod-eni` capacity (KUBECONFIG), else it is unknown.
/// </summary>
internal static class StatusCommand
{
    public static async Task<int> RunAsync(CliSettings settings, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(output);
        var node = NodeSnapshot.Capture(settings);
        var (mode, source) = node.NodeMode();
        using var probes = new Probes(settings);
        var agent = await probes.AgentAsync().ConfigureAwait(false);
        var (capacity, capacitySource) = agent.Capacity is { } fromAgent ? (fromAgent, "agent")
            : await probes.NodeCapacityAsync().ConfigureAwait(false) is { } fromNode ? ((int?)fromNode, "kubernetes") : (null, (string?)null);
        var used = node.Pods.Select(p => p.VlanId).OfType<int>().Distinct().Order().ToList();
        var cni = node.Cni;
        var report = new StatusReport(Trunk(node), capacity, capacitySource, used,
            node.VlanLinks.Select(l => BranchKernelLayout.VlanIdOf(l.Name)!.Value).Order().ToList(),
            capacity is { } c ? Math.Max(0, c - used.Count) : null,
            new CniStatus(cni.BinaryPath, cni.BinaryInstalled, cni.ConflistPath, cni.ConflistInstalled, cni.ConflistError, cni.VethPrefix),
            PodVerifier.Name(mode), source, agent, node.Pods.Count, node.Pods.Count(p => p.Branch is null));
        if (settings.Output == OutputFormat.Json)
        {
            output.WriteLine(JsonSerializer.Serialize(report, CliJsonContext.Default.StatusReport));
        }
        else
        {
            output.Write(Render(report));
        }

        return ExitCodes.Ok;
    }

    private static TrunkStatus Trunk(NodeSnapshot node)
    {
        if (node.Trunk is not { } trunk)
        {
            return new TrunkStatus(null, null, null, node.TrunkError is null ? "unrecorded" : "invalid", node.TrunkError);
        }

        var link = node.TrunkLink;
        var state = link is null ? "missing" : link.IsUp ? "up" : "down";
        return new TrunkStatus(trunk.EniId, trunk.MacAddress, link?.Name ?? trunk.LinkName, state,
            link is null ? $"no link has the trunk's MAC {trunk.MacAddress}" : null);
    }

    private static string Render(StatusReport r)
    {
        var table = new TextTable("", "");
        table.Add("Trunk:", $"{r.Trunk.EniId ?? "-"}  {r.Trunk.Mac ?? "-"}  {r.Trunk.Link ?? "-"}  {r.Trunk.State}{(r.Trunk.Error is null ? "" : $" ({r.Trunk.Error})")}");
        table.Add("Capacity:", r.Capacity is { } c ? $"{c.ToString(CultureInfo.InvariantCulture)} branch ENIs (from {r.CapacitySource})" : "unknown (agent and API server not reachable)");
        table.Add("VLANs used:", $"{r.VlansUsed.Count.ToString(CultureInfo.InvariantCulture)} [{string.Join(",", r.VlansUsed)}], free {(r.VlansFree is { } f ? f.ToString(CultureInfo.InvariantCulture) : "unknown")}");
        table.Add("VLAN links:", $"{r.VlanLinks.Count.ToString(CultureInfo.InvariantCulture)} [{string.Join(",", r.VlanLinks)}]");
        table.Add("CNI binary:", $"{r.Cni.Binary}  {(r.Cni.BinaryInstalled ? "installed" : "not installed")}");
        table.Add("Conflist:", $"{r.Cni.Conflist}  {(r.Cni.ConflistInstalled ? "installed" : "not installed")}{(r.Cni.ConflistError is { } e ? $" (unusable: {e})" : "")}");
        table.Add("Mode:", $"{r.Mode} (from {r.ModeSource})");
        table.Add("Agent:", r.Agent.Reachable
            ? $"{r.Agent.Address}  healthz: {r.Agent.Healthz}  readyz: {r.Agent.Readyz}"
            : $"{r.Agent.Address}  unreachable ({r.Agent.Error})");
        table.Add("Records:", $"{r.PodRecords.ToString(CultureInfo.InvariantCulture)} pods, {r.InvalidRecords.ToString(CultureInfo.InvariantCulture)} invalid");
        // The two-column table has an empty header row; drop it.
        var text = table.ToString();
        return text[(text.IndexOf('\n', StringComparison.Ordinal) + 1)..];
    }
}
