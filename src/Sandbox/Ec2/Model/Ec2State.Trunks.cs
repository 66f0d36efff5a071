namespace BranchEni.Sandbox.Ec2.Model;

/// <summary>Trunk associations (VLAN id unique per trunk, branch limit per instance type) and tags.</summary>
internal sealed partial class Ec2State
{
    private const int MaxTagsPerResource = 50;

    public TrunkAssociation Associate(string branchId, string trunkId, int? vlanId)
    {
        var branch = Eni(branchId);
        var trunk = Eni(trunkId);
        if (vlanId is null)
        {
            throw Ec2Exception.Missing("VlanId");
        }

        if (vlanId is < 1 or > 4094)
        {
            throw Ec2Exception.InvalidValue($"Invalid value '{vlanId}' for VlanId. It must be between 1 and 4094.");
        }

        if (trunk.Type != InterfaceType.Trunk)
        {
            throw Ec2Exception.InvalidValue($"The network interface '{trunk.Id}' is not a trunk network interface.");
        }

        if (branch.Type == InterfaceType.Trunk || branch.Attachment is not null || AssociationOfBranch(branch.Id) is not null)
        {
            throw new Ec2Exception("InvalidNetworkInterface.InUse", $"The network interface '{branch.Id}' is in use.");
        }

        var onTrunk = _associations.Values.Where(a => a.TrunkInterfaceId == trunk.Id).ToList();
        if (onTrunk.Any(a => a.VlanId == vlanId))
        {
            throw Ec2Exception.InvalidValue($"VLAN ID {vlanId} is already associated with trunk interface '{trunk.Id}'.");
        }

        if (trunk.Attachment is { } attachment && onTrunk.Count >= LimitsOf(InstanceById(attachment.InstanceId)).MaxBranches)
        {
            throw new Ec2Exception("AttachmentLimitExceeded",
                $"Branch interface count {onTrunk.Count + 1} exceeds the limit for trunk interface '{trunk.Id}'.");
        }

        var association = new TrunkAssociation(Ec2Ids.New("trunk-assoc"), branch.Id, trunk.Id, vlanId.Value);
        _associations.Add(association.Id, association);
        branch.Type = InterfaceType.Branch;
        branch.Associated = true;
        return association;
    }

    public void Disassociate(string associationId)
    {
        var association = AssociationById(associationId);
        _associations.Remove(association.Id);
        if (_enis.TryGetValue(association.BranchInterfaceId, out var branch))
        {
            branch.Type = InterfaceType.Interface;
            branch.Associated = false;
        }
    }

    /// <summary>Tags ENIs and instances; all ids are checked before any tag is written.</summary>
    public void CreateTags(IReadOnlyList<string> resourceIds, IReadOnlyList<KeyValuePair<string, string>> tags)
    {
        ValidateTags(tags);
        var targets = resourceIds.Select(TagsOf).ToList();
        if (targets.Any(t => t.Keys.Union(tags.Select(x => x.Key)).Count() > MaxTagsPerResource))
        {
            throw new Ec2Exception("TagLimitExceeded", $"The maximum number of tags ({MaxTagsPerResource}) per resource is exceeded");
        }

        foreach (var target in targets)
        {
            foreach (var (key, value) in tags)
            {
                target[key] = value;
            }
        }
    }

    /// <summary>Removes tags; a tag given with a value is removed only when the value matches, as EC2 does.</summary>
    public void DeleteTags(IReadOnlyList<string> resourceIds, IReadOnlyList<KeyValuePair<string, string?>> tags)
    {
        var targets = resourceIds.Select(TagsOf).ToList();
        foreach (var target in targets)
        {
            if (tags.Count == 0)
            {
                target.Clear();
            }

            foreach (var (key, value) in tags)
            {
                if (value is null || (target.TryGetValue(key, out var current) && current == value))
                {
                    target.Remove(key);
                }
            }
        }
    }

    private Dictionary<string, string> TagsOf(string resourceId) => resourceId switch
    {
        _ when resourceId.StartsWith("eni-", StringComparison.Ordinal) => Eni(resourceId).Tags,
        _ when resourceId.StartsWith("i-", StringComparison.Ordinal) => InstanceById(resourceId).Tags,
        _ => throw new Ec2Exception("InvalidID", $"The ID '{resourceId}' is not valid (the sandbox tags network interfaces and instances)"),
    };

    private static void ValidateTags(IReadOnlyList<KeyValuePair<string, string>> tags)
    {
        foreach (var (key, value) in tags)
        {
            if (key.Length is 0 or > 128 || value.Length > 256)
            {
                throw Ec2Exception.InvalidValue($"Tag key must be 1-128 characters and value at most 256: '{key}'");
            }

            if (key.StartsWith("aws:", StringComparison.OrdinalIgnoreCase))
            {
                throw Ec2Exception.InvalidValue($"Tag keys starting with 'aws:' are reserved for internal use: '{key}'");
            }
        }
    }
}
