using System.Xml.Linq;
using BranchEni.Sandbox.Ec2.Actions;
using BranchEni.Sandbox.Ec2.Model;
using BranchEni.Sandbox.Ec2.Protocol;

namespace BranchEni.Sandbox.Ec2;

internal delegate XDocument Ec2Handler(Ec2State state, Ec2Request request, string requestId);

/// <summary>The actions the emulator serves; anything else is EC2's InvalidAction.</summary>
internal static class Ec2Actions
{
    public static readonly IReadOnlyDictionary<string, Ec2Handler> Handlers =
        new Dictionary<string, Ec2Handler>(StringComparer.Ordinal)
        {
            ["DescribeInstances"] = DescribeActions.Instances,
            ["DescribeSubnets"] = DescribeActions.Subnets,
            ["DescribeSecurityGroups"] = DescribeActions.SecurityGroups,
            ["DescribeNetworkInterfaces"] = DescribeActions.NetworkInterfaces,
            ["CreateNetworkInterface"] = InterfaceActions.Create,
            ["AttachNetworkInterface"] = InterfaceActions.Attach,
            ["DetachNetworkInterface"] = InterfaceActions.Detach,
            ["ModifyNetworkInterfaceAttribute"] = InterfaceActions.Modify,
            ["DeleteNetworkInterface"] = InterfaceActions.Delete,
            ["CreateNetworkInterfacePermission"] = InterfaceActions.CreatePermission,
            ["CreateTags"] = TrunkAndTagActions.CreateTags,
            ["DeleteTags"] = TrunkAndTagActions.DeleteTags,
            ["AssociateTrunkInterface"] = TrunkAndTagActions.Associate,
            ["DisassociateTrunkInterface"] = TrunkAndTagActions.Disassociate,
            ["DescribeTrunkInterfaceAssociations"] = TrunkAndTagActions.DescribeAssociations,
        };
}
