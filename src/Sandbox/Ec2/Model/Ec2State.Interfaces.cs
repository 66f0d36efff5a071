using System.Net;

namespace BranchEni.Sandbox.Ec2.Model;

/// <summary>Network interface lifecycle: create, attach, detach, modify, delete, tags and permissions.</summary>
internal sealed partial class Ec2State
{
    public NetworkInterface CreateNetworkInterface(
        string subnetId, IReadOnlyList<string> groupIds, string? description, InterfaceType type,
        string? privateIp, IReadOnlyList<KeyValuePair<string, string>> tags)
    {
        var subnet = SubnetById(subnetId);
        var groups = groupIds.Count > 0 ? groupIds.Distinct(StringComparer.Ordinal).ToList() : DefaultGroups();
        foreach (var g in groups)
        {
            GroupById(g);
        }

        ValidateTags(tags);
        IPAddress? ip = null;
        if (privateIp is not null)
        {
            if (!IPAddress.TryParse(privateIp, out ip) || !subnet.Pool.Contains(ip))
            {
                throw Ec2Exception.InvalidValue($"Address {privateIp} does not fall within the subnet's address range");
            }

            if (!subnet.Pool.TryClaim(ip))
            {
                throw new Ec2Exception("InvalidIPAddress.InUse", $"Address {privateIp} is in use.");
            }
        }

        ip ??= subnet.Pool.Allocate() ?? throw new Ec2Exception(
            "InsufficientFreeAddressesInSubnet", $"Insufficient free IP addresses in subnet '{subnet.Id}'.");
        var eni = new NetworkInterface(Ec2Ids.New("eni"), subnet, Ec2Ids.NewMac(), ip)
        {
            Type = type,
            Description = description ?? "",
            GroupIds = groups,
        };
        foreach (var (key, value) in tags)
        {
            eni.Tags[key] = value;
        }

        _enis.Add(eni.Id, eni);
        return eni;
    }

    public Attachment Attach(string eniId, string instanceId, int deviceIndex)
    {
        var eni = Eni(eniId);
        var instance = InstanceById(instanceId);
        if (!instance.Running)
        {
            throw new Ec2Exception("IncorrectInstanceState", $"The instance '{instance.Id}' is not in a valid state for this operation (terminated).");
        }

        var limits = LimitsOf(instance);
        if (eni.Attachment is not null || AssociationOfBranch(eni.Id) is not null)
        {
            throw new Ec2Exception("InvalidNetworkInterface.InUse", $"Interface: [{eni.Id}] in use.");
        }

        if (eni.Subnet.AvailabilityZone != instance.AvailabilityZone)
        {
            throw new Ec2Exception("InvalidParameterCombination",
                $"You may not attach a network interface to an instance if they are not in the same availability zone");
        }

        var attached = AttachedTo(instance.Id).ToList();
        if (deviceIndex < 0 || attached.Count >= limits.MaxInterfaces || deviceIndex >= limits.MaxInterfaces)
        {
            throw new Ec2Exception("AttachmentLimitExceeded",
                $"Interface count {attached.Count + 1} exceeds the limit for {instance.InstanceType}");
        }

        if (attached.Any(e => e.Attachment!.DeviceIndex == deviceIndex))
        {
            throw Ec2Exception.InvalidValue($"Instance '{instance.Id}' already has an interface attached at device index '{deviceIndex}'.");
        }

        if (eni.Type == InterfaceType.Trunk && limits.MaxBranches == 0)
        {
            throw new Ec2Exception("InvalidParameterCombination",
                $"Instance type {instance.InstanceType} does not support trunk network interfaces");
        }

        if (eni.Type == InterfaceType.Trunk && attached.Any(e => e.Type == InterfaceType.Trunk))
        {
            throw new Ec2Exception("InvalidParameterCombination", $"Instance '{instance.Id}' already has a trunk network interface");
        }

        eni.Attachment = new Attachment(Ec2Ids.New("eni-attach"), instance.Id, deviceIndex, DateTimeOffset.UtcNow);
        return eni.Attachment;
    }

    public void Detach(string attachmentId)
    {
        var eni = _enis.Values.FirstOrDefault(e => e.Attachment?.Id == attachmentId)
            ?? throw Ec2Exception.AttachmentNotFound(attachmentId);
        if (eni.Attachment!.DeviceIndex == 0)
        {
            throw new Ec2Exception("OperationNotPermitted", "The network interface at device index 0 cannot be detached.");
        }

        eni.Attachment = null;
    }

    public void Modify(
        string eniId, string? description, bool? sourceDestCheck, IReadOnlyList<string> groupIds,
        string? attachmentId, bool? deleteOnTermination)
    {
        var eni = Eni(eniId);
        foreach (var g in groupIds)
        {
            GroupById(g);
        }

        if (deleteOnTermination is not null && (attachmentId is null || eni.Attachment?.Id != attachmentId))
        {
            throw attachmentId is null ? Ec2Exception.Missing("Attachment.AttachmentId") : Ec2Exception.AttachmentNotFound(attachmentId);
        }

        var changes = (description is null ? 0 : 1) + (sourceDestCheck is null ? 0 : 1) + (groupIds.Count > 0 ? 1 : 0)
            + (deleteOnTermination is null ? 0 : 1);
        if (changes != 1)
        {
            // EC2 modifies exactly one attribute per call.
            throw new Ec2Exception("InvalidParameterCombination", "Exactly one attribute must be specified per request");
        }

        eni.Description = description ?? eni.Description;
        eni.SourceDestCheck = sourceDestCheck ?? eni.SourceDestCheck;
        eni.GroupIds = groupIds.Count > 0 ? groupIds.Distinct(StringComparer.Ordinal).ToList() : eni.GroupIds;
        if (deleteOnTermination is { } dot)
        {
            eni.Attachment!.DeleteOnTermination = dot;
        }
    }

    public void Delete(string eniId)
    {
        var eni = Eni(eniId);
        if (eni.Attachment is not null)
        {
            throw new Ec2Exception("InvalidNetworkInterface.InUse", $"The network interface '{eni.Id}' is currently in use.");
        }

        if (eni.Type == InterfaceType.Trunk && _associations.Values.Any(a => a.TrunkInterfaceId == eni.Id))
        {
            throw new Ec2Exception("InvalidNetworkInterface.InUse",
                $"The trunk network interface '{eni.Id}' still has branch interfaces associated.");
        }

        // Deleting a branch ends its association, as EC2 does when the VPC resource controller deletes branches.
        if (AssociationOfBranch(eni.Id) is { } association)
        {
            _associations.Remove(association.Id);
        }

        foreach (var p in _permissions.Values.Where(p => p.NetworkInterfaceId == eni.Id).ToList())
        {
            _permissions.Remove(p.Id);
        }

        eni.Subnet.Pool.Release(eni.PrivateIp);
        _enis.Remove(eni.Id);
    }

    public InterfacePermission CreatePermission(string eniId, string? account, string? service, string permission)
    {
        Eni(eniId);
        if (permission is not ("INSTANCE-ATTACH" or "EIP-ASSOCIATE"))
        {
            throw Ec2Exception.InvalidValue($"Invalid value '{permission}' for Permission");
        }

        if ((account is null) == (service is null))
        {
            throw new Ec2Exception("InvalidParameterCombination", "Specify exactly one of AwsAccountId and AwsService");
        }

        var p = new InterfacePermission(Ec2Ids.New("eni-perm"), eniId, account, service, permission);
        _permissions.Add(p.Id, p);
        return p;
    }

    private List<string> DefaultGroups() =>
        _groups.Values.Where(g => g.Name == "default").Select(g => g.Id).Take(1).ToList();
}
