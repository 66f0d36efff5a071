using System.Xml.Linq;
using BranchEni.Sandbox.Ec2.Model;
using BranchEni.Sandbox.Ec2.Protocol;
using static BranchEni.Sandbox.Ec2.Protocol.Ec2Xml;

namespace BranchEni.Sandbox.Ec2.Actions;

/// <summary>Trunk associations and tags.</summary>
internal static class TrunkAndTagActions
{
    private static readonly FilterSet<TrunkAssociation> AssociationFilters = new(
        new Dictionary<string, Func<TrunkAssociation, IEnumerable<string?>>>(StringComparer.Ordinal)
        {
            ["interface-protocol"] = _ => ["VLAN"],
            ["gre-key"] = _ => [],
            ["vlan-id"] = a => [Int(a.VlanId)],
            ["trunk-interface-association.association-id"] = a => [a.Id],
            ["trunk-interface-association.branch-interface-id"] = a => [a.BranchInterfaceId],
            ["trunk-interface-association.trunk-interface-id"] = a => [a.TrunkInterfaceId],
        });

    public static XDocument Associate(Ec2State state, Ec2Request r, string requestId)
    {
        if (r.Optional("GreKey") is not null)
        {
            throw Ec2Exception.InvalidValue("GRE trunk associations are not supported; use VlanId.");
        }

        var association = state.Associate(r.Required("BranchInterfaceId"), r.Required("TrunkInterfaceId"), r.Int("VlanId"));
        return Response(r.Action, requestId, E("interfaceAssociation", Render.Association(association)), Opt("clientToken", r.Optional("ClientToken")));
    }

    public static XDocument Disassociate(Ec2State state, Ec2Request r, string requestId)
    {
        state.Disassociate(r.Required("AssociationId"));
        return Response(r.Action, requestId, E("return", "true"), Opt("clientToken", r.Optional("ClientToken")));
    }

    public static XDocument DescribeAssociations(Ec2State state, Ec2Request r, string requestId)
    {
        var ids = r.List("AssociationId");
        var matches = AssociationFilters.Compile(r.Filters());
        var selected = ids.Count > 0 ? ids.Select(state.AssociationById).ToList() : state.Associations.ToList();
        var (page, next) = Paging.Page(selected.Where(matches), a => a.Id, r.Int("MaxResults"), r.Optional("NextToken"), 5, 255);
        return Response(r.Action, requestId, Set("interfaceAssociationSet", page, Render.Association), Opt("nextToken", next));
    }

    public static XDocument CreateTags(Ec2State state, Ec2Request r, string requestId)
    {
        var resources = r.List("ResourceId");
        var tags = r.Tags("Tag");
        if (resources.Count == 0)
        {
            throw Ec2Exception.Missing("ResourceId.1");
        }

        if (tags.Count == 0)
        {
            throw Ec2Exception.Missing("Tag.1.Key");
        }

        state.CreateTags(resources, tags);
        return Response(r.Action, requestId, E("return", "true"));
    }

    public static XDocument DeleteTags(Ec2State state, Ec2Request r, string requestId)
    {
        var resources = r.List("ResourceId");
        if (resources.Count == 0)
        {
            throw Ec2Exception.Missing("ResourceId.1");
        }

        state.DeleteTags(resources, r.TagKeys("Tag"));
        return Response(r.Action, requestId, E("return", "true"));
    }
}
