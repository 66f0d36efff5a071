using System.Text.Json;
using BranchEni.Cni.Branch;
using BranchEni.Cni.Config;
using BranchEni.Cni.Delegation;
using BranchEni.Cni.Protocol;
using BranchEni.Cni.Selection;
using BranchEni.Contracts;
using BranchEni.Netlink;
using BranchEni.Policy;
using Serilog.Core;

namespace BranchEni.Cni.Commands;

/// <summary>
/// ADD, DEL, CHECK, STATUS and GC: each reads as the decision it makes (branch pod or delegate) and the steps it runs.
/// Everything here throws; <see cref="Program.Run(IReadOnlyDictionary{string, string}, Stream, Stream)"/> turns
/// exceptions into the spec's error JSON.
/// </summary>
internal sealed class CniCommands(PluginConfig config, CniEnvironment env, Logger log)
{
    private DelegatePlugin? Delegate => config.Delegate is { } d ? new DelegatePlugin(d, env) : null;

    /// <summary>Returns the result to print, or null when the command prints nothing.</summary>
    public CniResult? Execute() => env.Command switch
    {
        "ADD" => Add(),
        "DEL" => Del(),
        "CHECK" => Check(),
        "STATUS" => Status(),
        "GC" => Gc(),
        _ => throw new CniException(CniErrorCode.InvalidEnvironment, $"CNI_COMMAND '{env.Command}' is not a CNI operation"),
    };

    private CniResult Add()
    {
        // Checked even when unused: a chained runtime's malformed prevResult is an error, not something to pass on.
        PrevResultReader.Read(config.PrevResult);
        var branch = new BranchSelector(config, env.Args, log).Select();
        if (branch is null)
        {
            var plugin = Delegate ?? throw new CniException(CniErrorCode.NoBranchEni,
                $"pod {env.Args.PodNamespace}/{env.Args.PodName} has no branch ENI and no delegate is configured");
            log.Information("ADD {ContainerId}: no branch ENI, delegating to {Delegate}", env.ContainerId, plugin.Type);
            return DelegatePlugin.Reshape(plugin.Invoke("ADD", config, config.PrevResult), config.CniVersion);
        }

        if (!env.Args.HasPod)
        {
            throw new CniException(CniErrorCode.InvalidEnvironment, "CNI_ARGS must carry K8S_POD_NAMESPACE and K8S_POD_NAME for a branch pod");
        }

        var layout = BranchLayout.Create(config, env.ContainerId!, env.IfName!, env.Args, branch);
        log.Information("ADD {ContainerId}: branch {EniId} VLAN {VlanId} IP {PodIp} mode {Mode} veth {HostVeth}",
            env.ContainerId, branch.EniId, branch.VlanId, branch.PrivateIp.ToString(), config.EnforcingMode.ToString(), layout.HostVeth);
        using var podNs = OpenNetns(env.NetNs!);
        using var nodeLock = NodeLock.Acquire(config.StateDir);
        using var host = NetlinkHandle.Open();
        var trunk = TrunkResolver.Resolve(host, config);
        return new BranchAdd(host, podNs, layout, trunk, Dot1QVlanLink.Instance, log).Run(config.CniVersion, env.NetNs!);
    }

    private CniResult? Del()
    {
        var prev = PrevResultReader.Read(config.PrevResult);
        var footprint = prev is null ? null : BranchResult.Read(prev);
        if (footprint is not null || prev is null)
        {
            // With our own prevResult this is all; without any, also look for leftovers by owner alias.
            using var nodeLock = NodeLock.Acquire(config.StateDir);
            using var host = NetlinkHandle.Open();
            var deleted = new BranchDel(host, env.ContainerId!, log, Dot1QVlanLink.Instance).Run(footprint, HostVethFromArgs(), RecordedVlan());
            log.Information("DEL {ContainerId}: {Deleted} kernel objects removed", env.ContainerId, deleted);
            if (footprint is not null)
            {
                return null;
            }
        }

        if (Delegate is { } plugin)
        {
            log.Information("DEL {ContainerId}: forwarded to {Delegate}", env.ContainerId, plugin.Type);
            plugin.Invoke("DEL", config, config.PrevResult);
        }

        return null;
    }

    private CniResult? Check()
    {
        if (!CniVersions.HasCheck(config.CniVersion))
        {
            throw new CniException(CniErrorCode.IncompatibleVersion, $"CHECK is not part of CNI {config.CniVersion}");
        }

        var prev = PrevResultReader.Read(config.PrevResult)
            ?? throw new CniException(CniErrorCode.InvalidNetworkConfig, "CHECK needs prevResult");
        if (BranchResult.Read(prev) is { } footprint)
        {
            using var podNs = OpenNetns(env.NetNs!);
            using var host = NetlinkHandle.Open();
            new BranchCheck(host, podNs, env.ContainerId!, config.EnforcingMode, Dot1QVlanLink.Instance).Run(footprint, RecordedMetadataAccess());
            return null;
        }

        var plugin = Delegate ?? throw new CniException(CniErrorCode.InvalidNetworkConfig,
            "prevResult is not a branch-eni result and no delegate is configured");
        plugin.Invoke("CHECK", config, config.PrevResult);
        return null;
    }

    private CniResult? Status()
    {
        RequireStatusAndGc("STATUS");
        if (TrunkResolver.IsConfigured(config))
        {
            using var host = NetlinkHandle.Open();
            if (TrunkResolver.TryResolve(host, config, out var problem) is null)
            {
                throw new CniException(CniErrorCode.PluginNotAvailable, $"branch pods cannot be networked: {problem}");
            }
        }

        if (Delegate is { } plugin && CniVersions.HasStatusAndGc(plugin.VersionFor(config.CniVersion)))
        {
            plugin.Invoke("STATUS", config, null);
        }

        return null;
    }

    private CniResult? Gc()
    {
        RequireStatusAndGc("GC");
        var valid = config.ValidContainerIds
            ?? throw new CniException(CniErrorCode.InvalidNetworkConfig, "GC needs cni.dev/valid-attachments (or cni.dev/attachments)");
        using (NodeLock.Acquire(config.StateDir))
        using (var host = NetlinkHandle.Open())
        {
            var removed = BranchGc.Run(host, config.VethPrefix, valid, log, Dot1QVlanLink.Instance);
            log.Information("GC: {Removed} kernel objects of {Valid} valid attachments' strangers removed", removed, valid.Count);
        }

        if (Delegate is { } plugin && CniVersions.HasStatusAndGc(plugin.VersionFor(config.CniVersion)))
        {
            plugin.Invoke("GC", config, null, valid);
        }

        return null;
    }

    private void RequireStatusAndGc(string command)
    {
        if (!CniVersions.HasStatusAndGc(config.CniVersion))
        {
            throw new CniException(CniErrorCode.IncompatibleVersion, $"{command} is not part of CNI {config.CniVersion}");
        }
    }

    private string? HostVethFromArgs() =>
        env.Args.HasPod ? BranchLayout.HostVethName(config.VethPrefix, env.Args.PodNamespace!, env.Args.PodName!) : null;

    /// <summary>The agent's VLAN for this pod, if a readable record still exists (helps DEL after a killed ADD).</summary>
    private int? RecordedVlan()
    {
        try
        {
            return env.Args.PodUid is { } uid ? new NodeRecords(config.StateDir).ReadPod(uid)?.VlanId : null;
        }
        catch (Exception e) when (e is InvalidDataException or ArgumentException or IOException)
        {
            return null;
        }
    }

    /// <summary>The pod's metadata access as its record says (the desired state CHECK compares with). Without a record
    /// the branch came from the API's annotation, and ADD applied the verdict branch-eni-kube gave: ask it again. Without
    /// either (no pod identity or no kubeconfig), Allowed, as ADD would have applied it.</summary>
    private MetadataAccess RecordedMetadataAccess()
    {
        if (env.Args.PodUid is not { } uid)
        {
            return MetadataAccess.Allowed;
        }

        var records = new NodeRecords(config.StateDir);
        PodRecord? record;
        try
        {
            record = records.ReadPod(uid);
            if (record is not null)
            {
                return BranchEniParser.ParseMetadataAccess(record.MetadataAccess);
            }
        }
        catch (Exception e) when (e is InvalidDataException or BranchEniFormatException)
        {
            throw new CniException(CniErrorCode.BranchEniRefused, $"{records.PodPath(uid)}: {e.Message}");
        }

        return config.Kubeconfig is { } kubeconfig && env.Args.HasPod
            ? BranchSelector.MetadataAccessOf(BranchSelector.SamePod(ExecPodReader.Installed(kubeconfig, config).Read(env.Args.PodNamespace!, env.Args.PodName!), env.Args))
            : MetadataAccess.Allowed;
    }

    private static NetworkNamespace OpenNetns(string path)
    {
        try
        {
            return NetworkNamespace.Open(path);
        }
        catch (NetlinkException e)
        {
            throw new CniException(CniErrorCode.InvalidEnvironment, $"CNI_NETNS {path} cannot be opened", e.Message);
        }
    }
}
