using System.Xml.Linq;
using BranchEni.Sandbox.Ec2.Model;
using BranchEni.Sandbox.Ec2.Protocol;
using static BranchEni.Sandbox.Ec2.Protocol.Ec2Xml;

namespace BranchEni.Sandbox.Ec2.Actions;

/// <summary>The Describe* calls: ids or filters, then MaxResults/NextToken paging over id order.</summary>
internal static class DescribeActions
{
    private static readonly FilterSet<NetworkInterface> EniFilters = new(
        new Dictionary<string, Func<NetworkInterface, IEnumerable<string?>>>(StringComparer.Ordinal)
        {
            ["network-interface-id"] = e => [e.Id],
            ["interface-type"] = e => [e.TypeName],
            ["status"] = e => [e.Status],
            ["subnet-id"] = e => [e.Subnet.Id],
            ["vpc-id"] = e => [e.Subnet.VpcId],
            ["availability-zone"] = e => [e.Subnet.AvailabilityZone],
            ["group-id"] = e => e.GroupIds,
            ["description"] = e => [e.Description],
            ["mac-address"] = e => [e.MacAddress],
            ["private-ip-address"] = e => [e.PrivateIp.ToString()],
            ["addresses.private-ip-address"] = e => [e.PrivateIp.ToString()],
            ["requester-managed"] = _ => ["false"],
            ["source-dest-check"] = e => [Bool(e.SourceDestCheck)],
            ["attachment.instance-id"] = e => [e.Attachment?.InstanceId],
            ["attachment.attachment-id"] = e => [e.Attachment?.Id],
            ["attachment.device-index"] = e => [e.Attachment is { } a ? Int(a.DeviceIndex) : null],
            ["attachment.status"] = e => [e.Attachment is null ? null : "attached"],
            ["attachment.delete-on-termination"] = e => [e.Attachment is { } a ? Bool(a.DeleteOnTermination) : null],
        },
        e => e.Tags);

    private static readonly FilterSet<Instance> InstanceFilters = new(
        new Dictionary<string, Func<Instance, IEnumerable<string?>>>(StringComparer.Ordinal)
        {
            ["instance-id"] = i => [i.Id],
            ["instance-type"] = i => [i.InstanceType],
            ["subnet-id"] = i => [i.SubnetId],
            ["availability-zone"] = i => [i.AvailabilityZone],
            ["instance-state-name"] = i => [i.StateName],
            ["instance-state-code"] = i => [Int(i.StateCode)],
        },
        i => i.Tags);

    private static readonly FilterSet<Subnet> SubnetFilters = new(
        new Dictionary<string, Func<Subnet, IEnumerable<string?>>>(StringComparer.Ordinal)
        {
            ["subnet-id"] = s => [s.Id],
            ["vpc-id"] = s => [s.VpcId],
            ["cidr-block"] = s => [s.CidrBlock],
            ["availability-zone"] = s => [s.AvailabilityZone],
            ["state"] = _ => ["available"],
        });

    private static readonly FilterSet<SecurityGroup> GroupFilters = new(
        new Dictionary<string, Func<SecurityGroup, IEnumerable<string?>>>(StringComparer.Ordinal)
        {
            ["group-id"] = g => [g.Id],
            ["group-name"] = g => [g.Name],
            ["vpc-id"] = g => [g.VpcId],
            ["description"] = g => [g.Description],
        });

    public static XDocument NetworkInterfaces(Ec2State state, Ec2Request r, string requestId)
    {
        var ids = r.List("NetworkInterfaceId");
        var maxResults = r.Int("MaxResults");
        if (ids.Count > 0 && maxResults is not null)
        {
            throw new Ec2Exception("InvalidParameterCombination", "The parameter NetworkInterfaceIds cannot be used with the parameter MaxResults");
        }

        var matches = EniFilters.Compile(r.Filters());
        var selected = ids.Count > 0 ? ids.Distinct(StringComparer.Ordinal).Select(state.Eni).ToList() : state.NetworkInterfaces.ToList();
        var (page, next) = Paging.Page(selected.Where(matches), e => e.Id, maxResults, r.Optional("NextToken"), 5, 1000);
        return Response(r.Action, requestId, Set("networkInterfaceSet", page, e => Render.Eni(state, e)), Opt("nextToken", next));
    }

    public static XDocument Instances(Ec2State state, Ec2Request r, string requestId)
    {
        var ids = r.List("InstanceId");
        var maxResults = r.Int("MaxResults");
        if (ids.Count > 0 && maxResults is not null)
        {
            throw new Ec2Exception("InvalidParameterCombination", "The parameter instancesSet cannot be used with the parameter maxResults");
        }

        var matches = InstanceFilters.Compile(r.Filters());
        var selected = ids.Count > 0
            ? ids.Distinct(StringComparer.Ordinal).Select(id => state.InstanceById(id) is var i && state.Visible(i) ? i : throw Ec2Exception.InstanceNotFound(id)).ToList()
            : state.Instances.Where(state.Visible).OrderBy(i => i.Id, StringComparer.Ordinal).ToList();
        var (page, next) = Paging.Page(selected.Where(matches), i => i.Id, maxResults, r.Optional("NextToken"), 5, 1000);

        // One reservation per instance, as when each node was launched by its own RunInstances call.
        return Response(r.Action, requestId,
            Set("reservationSet", page, i => [
                E("reservationId", "r-" + i.Id[2..]),
                E("ownerId", state.AccountId),
                E("groupSet"),
                Set("instancesSet", [i], x => Render.Instance(state, x)),
            ]),
            Opt("nextToken", next));
    }

    public static XDocument Subnets(Ec2State state, Ec2Request r, string requestId)
    {
        var ids = r.List("SubnetId");
        var matches = SubnetFilters.Compile(r.Filters());
        var selected = ids.Count > 0 ? ids.Select(state.SubnetById).ToList() : state.Subnets.OrderBy(s => s.Id, StringComparer.Ordinal).ToList();
        var (page, next) = Paging.Page(selected.Where(matches), s => s.Id, r.Int("MaxResults"), r.Optional("NextToken"), 5, 1000);
        return Response(r.Action, requestId,
            Set("subnetSet", page, s => [
                E("subnetId", s.Id),
                E("subnetArn", $"arn:aws:ec2:{state.Region}:{state.AccountId}:subnet/{s.Id}"),
                E("state", "available"),
                E("ownerId", state.AccountId),
                E("vpcId", s.VpcId),
                E("cidrBlock", s.CidrBlock),
                E("availableIpAddressCount", Int(s.Pool.AvailableCount)),
                E("availabilityZone", s.AvailabilityZone),
                E("defaultForAz", "false"),
                E("mapPublicIpOnLaunch", "false"),
                E("assignIpv6AddressOnCreation", "false"),
                E("ipv6CidrBlockAssociationSet"),
                E("tagSet"),
            ]),
            Opt("nextToken", next));
    }

    /// <summary>Every group lets everything out (the default egress rule); only ingress is modelled.</summary>
    private static readonly IngressRule AllOutbound = new("-1", null, null, ["0.0.0.0/0"], []);

    private static object?[] Permission(Ec2State state, IngressRule rule) =>
    [
        E("ipProtocol", rule.Protocol),
        rule.FromPort is { } from ? E("fromPort", Int(from)) : null,
        rule.ToPort is { } to ? E("toPort", Int(to)) : null,
        Set("groups", rule.SourceGroupIds, id => [E("userId", state.AccountId), E("groupId", id)]),
        Set("ipRanges", rule.Cidrs, cidr => [E("cidrIp", cidr)]),
        E("ipv6Ranges"),
        E("prefixListIds"),
    ];

    public static XDocument SecurityGroups(Ec2State state, Ec2Request r, string requestId)
    {
        var ids = r.List("GroupId");
        var names = r.List("GroupName");
        var matches = GroupFilters.Compile(r.Filters());
        var selected = ids.Count > 0 ? ids.Select(state.GroupById).ToList() : state.SecurityGroups.OrderBy(g => g.Id, StringComparer.Ordinal).ToList();
        if (names.Count > 0)
        {
            var missing = names.FirstOrDefault(n => selected.All(g => g.Name != n));
            if (missing is not null)
            {
                throw new Ec2Exception("InvalidGroup.NotFound", $"The security group '{missing}' does not exist in default VPC");
            }

            selected = selected.Where(g => names.Contains(g.Name)).ToList();
        }

        var (page, next) = Paging.Page(selected.Where(matches), g => g.Id, r.Int("MaxResults"), r.Optional("NextToken"), 5, 1000);
        return Response(r.Action, requestId,
            Set("securityGroupInfo", page, g => [
                E("ownerId", state.AccountId),
                E("groupId", g.Id),
                E("groupName", g.Name),
                E("groupDescription", g.Description),
                E("vpcId", g.VpcId),
                Set("ipPermissions", g.Ingress, rule => Permission(state, rule)),
                Set("ipPermissionsEgress", [AllOutbound], rule => Permission(state, rule)),
                E("tagSet"),
            ]),
            Opt("nextToken", next));
    }
}
