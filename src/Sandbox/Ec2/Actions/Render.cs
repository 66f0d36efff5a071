using BranchEni.Sandbox.Ec2.Model;
using static BranchEni.Sandbox.Ec2.Protocol.Ec2Xml;

namespace BranchEni.Sandbox.Ec2.Actions;

/// <summary>The XML shapes of EC2's resources (element names as in the 2016-11-15 API reference).</summary>
internal static class Render
{
    private static string PrivateDnsName(Ec2State state, System.Net.IPAddress ip) =>
        $"ip-{ip.ToString().Replace('.', '-')}.{state.Region}.compute.internal";

    /// <summary>A NetworkInterface (DescribeNetworkInterfaces item, CreateNetworkInterface's networkInterface).</summary>
    public static object?[] Eni(Ec2State state, NetworkInterface eni) =>
    [
        E("networkInterfaceId", eni.Id),
        E("subnetId", eni.Subnet.Id),
        E("vpcId", eni.Subnet.VpcId),
        E("availabilityZone", eni.Subnet.AvailabilityZone),
        E("description", eni.Description),
        E("ownerId", state.AccountId),
        E("requesterManaged", "false"),
        E("status", eni.Status),
        E("macAddress", eni.MacAddress),
        E("privateIpAddress", eni.PrivateIp.ToString()),
        E("privateDnsName", PrivateDnsName(state, eni.PrivateIp)),
        E("sourceDestCheck", Bool(eni.SourceDestCheck)),
        E("interfaceType", eni.TypeName),
        Groups(state, eni.GroupIds),
        eni.Attachment is { } a ? Attachment(state, a) : null,
        TagSet(eni.Tags),
        Set("privateIpAddressesSet", [eni], e => [
            E("privateIpAddress", e.PrivateIp.ToString()),
            E("privateDnsName", PrivateDnsName(state, e.PrivateIp)),
            E("primary", "true"),
        ]),
        E("ipv6AddressesSet"),
    ];

    /// <summary>An instance's view of an attached ENI (DescribeInstances' networkInterfaceSet item).</summary>
    public static object?[] InstanceEni(Ec2State state, NetworkInterface eni) =>
    [
        E("networkInterfaceId", eni.Id),
        E("subnetId", eni.Subnet.Id),
        E("vpcId", eni.Subnet.VpcId),
        E("description", eni.Description),
        E("ownerId", state.AccountId),
        E("status", eni.Status),
        E("macAddress", eni.MacAddress),
        E("privateIpAddress", eni.PrivateIp.ToString()),
        E("privateDnsName", PrivateDnsName(state, eni.PrivateIp)),
        E("sourceDestCheck", Bool(eni.SourceDestCheck)),
        E("interfaceType", eni.TypeName),
        Groups(state, eni.GroupIds),
        eni.Attachment is { } a
            ? E("attachment",
                E("attachmentId", a.Id),
                E("deviceIndex", Int(a.DeviceIndex)),
                E("networkCardIndex", "0"),
                E("status", "attached"),
                E("attachTime", Time(a.AttachTime)),
                E("deleteOnTermination", Bool(a.DeleteOnTermination)))
            : null,
        Set("privateIpAddressesSet", [eni], e => [
            E("privateIpAddress", e.PrivateIp.ToString()),
            E("privateDnsName", PrivateDnsName(state, e.PrivateIp)),
            E("primary", "true"),
        ]),
    ];

    public static object?[] Instance(Ec2State state, Instance instance)
    {
        // A terminated instance has no interfaces left and, as on EC2, no private address or DNS name.
        var enis = state.AttachedTo(instance.Id).ToList();
        var primary = enis.FirstOrDefault(e => e.Id == instance.PrimaryEniId);
        return
        [
            E("instanceId", instance.Id),
            E("imageId", instance.ImageId),
            E("instanceState", E("code", Int(instance.StateCode)), E("name", instance.StateName)),
            E("privateDnsName", primary is null ? "" : PrivateDnsName(state, primary.PrivateIp)),
            E("instanceType", instance.InstanceType),
            E("launchTime", Time(instance.LaunchTime)),
            E("placement", E("availabilityZone", instance.AvailabilityZone), E("tenancy", "default")),
            instance.Running ? E("subnetId", instance.SubnetId) : null,
            instance.Running ? E("vpcId", state.Vpc.Id) : null,
            primary is null ? null : E("privateIpAddress", primary.PrivateIp.ToString()),
            E("architecture", "x86_64"),
            E("rootDeviceType", "ebs"),
            E("hypervisor", "nitro"),
            Groups(state, primary?.GroupIds ?? []),
            Set("networkInterfaceSet", enis, e => InstanceEni(state, e)),
            TagSet(instance.Tags),
        ];
    }

    public static object?[] Association(TrunkAssociation a) =>
    [
        E("associationId", a.Id),
        E("branchInterfaceId", a.BranchInterfaceId),
        E("trunkInterfaceId", a.TrunkInterfaceId),
        E("interfaceProtocol", "VLAN"),
        E("vlanId", Int(a.VlanId)),
        E("tagSet"),
    ];

    private static System.Xml.Linq.XElement Attachment(Ec2State state, Attachment a) =>
        E("attachment",
            E("attachmentId", a.Id),
            E("instanceId", a.InstanceId),
            E("instanceOwnerId", state.AccountId),
            E("deviceIndex", Int(a.DeviceIndex)),
            E("networkCardIndex", "0"),
            E("status", "attached"),
            E("attachTime", Time(a.AttachTime)),
            E("deleteOnTermination", Bool(a.DeleteOnTermination)));

    private static System.Xml.Linq.XElement Groups(Ec2State state, IEnumerable<string> groupIds) =>
        Set("groupSet", groupIds, id => [
            E("groupId", id),
            Opt("groupName", state.SecurityGroups.FirstOrDefault(g => g.Id == id)?.Name),
        ]);
}
