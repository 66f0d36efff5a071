using System.Xml.Linq;
using BranchEni.Sandbox.Ec2.Model;
using BranchEni.Sandbox.Ec2.Protocol;
using static BranchEni.Sandbox.Ec2.Protocol.Ec2Xml;

namespace BranchEni.Sandbox.Ec2.Actions;

/// <summary>Create, attach, detach, modify, delete network interfaces and grant permissions on them.</summary>
internal static class InterfaceActions
{
    public static XDocument Create(Ec2State state, Ec2Request r, string requestId)
    {
        var type = r.Optional("InterfaceType") switch
        {
            null or "interface" => InterfaceType.Interface,
            "trunk" => InterfaceType.Trunk,
            "branch" => InterfaceType.Branch,
            var other => throw Ec2Exception.InvalidValue($"Value ({other}) for parameter interfaceType is invalid."),
        };
        var eni = state.CreateNetworkInterface(
            r.Required("SubnetId"), r.List("SecurityGroupId"), r.Optional("Description"), type,
            r.Optional("PrivateIpAddress"), r.TagSpecifications("network-interface"));
        return Response(r.Action, requestId, E("networkInterface", Render.Eni(state, eni)), Opt("clientToken", r.Optional("ClientToken")));
    }

    public static XDocument Attach(Ec2State state, Ec2Request r, string requestId)
    {
        var deviceIndex = r.Int("DeviceIndex") ?? throw Ec2Exception.Missing("DeviceIndex");
        if (r.Int("NetworkCardIndex") is { } card && card != 0)
        {
            throw Ec2Exception.InvalidValue($"Network card index {card} is not supported by the instance type.");
        }

        var attachment = state.Attach(r.Required("NetworkInterfaceId"), r.Required("InstanceId"), deviceIndex);
        return Response(r.Action, requestId, E("attachmentId", attachment.Id), E("networkCardIndex", "0"));
    }

    public static XDocument Detach(Ec2State state, Ec2Request r, string requestId)
    {
        r.Bool("Force");
        state.Detach(r.Required("AttachmentId"));
        return Response(r.Action, requestId, E("return", "true"));
    }

    public static XDocument Modify(Ec2State state, Ec2Request r, string requestId)
    {
        state.Modify(
            r.Required("NetworkInterfaceId"),
            r.Optional("Description.Value"),
            r.Bool("SourceDestCheck.Value"),
            r.List("SecurityGroupId"),
            r.Optional("Attachment.AttachmentId"),
            r.Bool("Attachment.DeleteOnTermination"));
        return Response(r.Action, requestId, E("return", "true"));
    }

    public static XDocument Delete(Ec2State state, Ec2Request r, string requestId)
    {
        state.Delete(r.Required("NetworkInterfaceId"));
        return Response(r.Action, requestId, E("return", "true"));
    }

    public static XDocument CreatePermission(Ec2State state, Ec2Request r, string requestId)
    {
        var p = state.CreatePermission(
            r.Required("NetworkInterfaceId"), r.Optional("AwsAccountId"), r.Optional("AwsService"), r.Required("Permission"));
        return Response(r.Action, requestId, E("interfacePermission",
            E("networkInterfacePermissionId", p.Id),
            E("networkInterfaceId", p.NetworkInterfaceId),
            Opt("awsAccountId", p.AwsAccountId),
            Opt("awsService", p.AwsService),
            E("permission", p.Permission),
            E("permissionState", E("state", "granted"))));
    }
}
