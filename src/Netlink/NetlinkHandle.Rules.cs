using System.Net.Sockets;

namespace BranchEni.Netlink;

public sealed partial class NetlinkHandle
{
    /// <summary>Equivalent to: `ip [-6] rule add [priority P] [iif I] [oif O] [from F] [to T] [fwmark M/K] table N`,
    /// e.g. `ip rule add iif vlan.eth.7 table 107 priority 10`.</summary>
    public void AddRule(Rule rule) => throw new NotImplementedException();

    /// <summary>Equivalent to: `ip [-6] rule del ...` with the same selectors. Throws ENOENT when absent.</summary>
    public void DeleteRule(Rule rule) => throw new NotImplementedException();

    /// <summary>Like <see cref="DeleteRule"/>, where "no such rule" is success; false if it was absent.</summary>
    public bool DeleteRuleIfExists(Rule rule) => throw new NotImplementedException();

    /// <summary>Equivalent to: `ip [-6] rule show`.</summary>
    public IReadOnlyList<Rule> ListRules(AddressFamily family) => throw new NotImplementedException();
}
