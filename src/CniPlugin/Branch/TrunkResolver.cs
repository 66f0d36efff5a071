using BranchEni.Cni.Config;
using BranchEni.Cni.Protocol;
using BranchEni.Contracts;
using BranchEni.Netlink;

namespace BranchEni.Cni.Branch;

/// <summary>Finds the trunk link: `trunkInterface` when configured, else trunk.json's MAC (DESIGN.md §2).</summary>
internal static class TrunkResolver
{
    /// <summary>The trunk link, or a code-103 error saying which source named what and why it is not there.</summary>
    public static Link Resolve(NetlinkHandle host, PluginConfig config)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(config);
        return TryResolve(host, config, out var problem) ?? throw new CniException(CniErrorCode.TrunkMissing, problem!);
    }

    /// <summary>True when this node can carry branch pods at all (a trunk is configured or recorded).</summary>
    public static bool IsConfigured(PluginConfig config) =>
        config.TrunkInterface is not null || File.Exists(new NodeRecords(config.StateDir).TrunkPath);

    public static Link? TryResolve(NetlinkHandle host, PluginConfig config, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(config);
        problem = null;
        if (config.TrunkInterface is { } name)
        {
            var link = host.TryGetLink(name);
            problem = link is null ? $"trunkInterface {name} is not on this node" : null;
            return link;
        }

        var records = new NodeRecords(config.StateDir);
        TrunkRecord? trunk;
        try
        {
            trunk = records.ReadTrunk();
        }
        catch (InvalidDataException e)
        {
            problem = e.Message;
            return null;
        }

        if (trunk is null)
        {
            problem = $"no trunk: {records.TrunkPath} does not exist (is the branch-eni agent running?)";
            return null;
        }

        System.Net.NetworkInformation.PhysicalAddress mac;
        try
        {
            mac = BranchEniParser.ParseMac(trunk.MacAddress ?? "", "macAddress");
        }
        catch (BranchEniFormatException e)
        {
            problem = $"{records.TrunkPath}: {e.Message}";
            return null;
        }

        var found = host.FindLinkByMac(mac);
        problem = found is null ? $"the trunk {trunk.EniId} (MAC {trunk.MacAddress}) from {records.TrunkPath} is not on this node" : null;
        return found;
    }
}
