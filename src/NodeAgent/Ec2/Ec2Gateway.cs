using System.Globalization;
using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.Runtime;

namespace BranchEni.Agent.Ec2;

/// <summary>A network interface as the agent needs it (collections never null, unlike SDK v4 models).</summary>
internal sealed record EniView(
    string Id,
    string Status,
    string? InterfaceType,
    string? MacAddress,
    string? PrivateIp,
    string? SubnetId,
    string? AttachmentId,
    string? AttachmentStatus,
    string? AttachedInstanceId,
    IReadOnlyDictionary<string, string> Tags)
{
    /// <summary>The interface's security groups (a restarted agent learns a branch's groups from here).</summary>
    public IReadOnlyList<string> Groups { get; init; } = [];

    public string? Tag(string key) => Tags.TryGetValue(key, out var v) ? v : null;

    public static EniView From(NetworkInterface eni) => new(
        eni.NetworkInterfaceId,
        eni.Status?.Value ?? "",
        eni.InterfaceType?.Value,
        eni.MacAddress?.ToLowerInvariant(),
        eni.PrivateIpAddress,
        eni.SubnetId,
        eni.Attachment?.AttachmentId,
        eni.Attachment?.Status?.Value,
        eni.Attachment?.InstanceId,
        (eni.TagSet ?? []).Where(t => t.Key is not null).GroupBy(t => t.Key).ToDictionary(g => g.Key, g => g.First().Value ?? "", StringComparer.Ordinal))
    {
        Groups = [.. (eni.Groups ?? []).Select(g => g.GroupId).OfType<string>()],
    };
}

/// <summary>
/// The EC2 calls the agent makes, each through <see cref="Ec2CallPolicy"/> (token buckets, jittered retry, counts).
/// Describe calls are always filtered and paginated (unfiltered ones have a stricter account bucket).
/// </summary>
internal sealed class Ec2Gateway(IAmazonEC2 ec2, Ec2CallPolicy policy)
{
    public Task<T> Call<T>(string action, Func<CancellationToken, Task<T>> call, CancellationToken ct) => policy.CallAsync(action, call, ct);

    public async Task<IReadOnlyList<EniView>> DescribeEnisAsync(IReadOnlyList<Filter> filters, CancellationToken ct)
    {
        var result = new List<EniView>();
        string? next = null;
        do
        {
            var request = new DescribeNetworkInterfacesRequest { Filters = [.. filters], MaxResults = 1000, NextToken = next };
            var page = await Call("DescribeNetworkInterfaces", c => ec2.DescribeNetworkInterfacesAsync(request, c), ct).ConfigureAwait(false);
            result.AddRange((page.NetworkInterfaces ?? []).Select(EniView.From));
            next = page.NextToken;
        }
        while (!string.IsNullOrEmpty(next));
        return result;
    }

    public async Task<EniView?> DescribeEniAsync(string eniId, CancellationToken ct)
    {
        var found = await DescribeEnisAsync([new Filter("network-interface-id", [eniId])], ct).ConfigureAwait(false);
        return found.FirstOrDefault(e => e.Id == eniId);
    }

    /// <summary>The device indexes in use on the instance.</summary>
    public async Task<IReadOnlyList<int>> DeviceIndexesAsync(string instanceId, CancellationToken ct)
    {
        var request = new DescribeInstancesRequest { InstanceIds = [instanceId] };
        var answer = await Call("DescribeInstances", c => ec2.DescribeInstancesAsync(request, c), ct).ConfigureAwait(false);
        var instance = (answer.Reservations ?? []).SelectMany(r => r.Instances ?? []).FirstOrDefault(i => i.InstanceId == instanceId)
            ?? throw new Ec2AnswerException($"DescribeInstances does not know {instanceId}");
        return [.. (instance.NetworkInterfaces ?? []).Select(n => n.Attachment?.DeviceIndex).OfType<int>()];
    }

    public async Task<string> SubnetCidrAsync(string subnetId, CancellationToken ct)
    {
        var request = new DescribeSubnetsRequest { SubnetIds = [subnetId] };
        var answer = await Call("DescribeSubnets", c => ec2.DescribeSubnetsAsync(request, c), ct).ConfigureAwait(false);
        return (answer.Subnets ?? []).FirstOrDefault(s => s.SubnetId == subnetId)?.CidrBlock
            ?? throw new Ec2AnswerException($"DescribeSubnets gave no CIDR for {subnetId}");
    }

    /// <summary>Group id → its VPC, for those of <paramref name="groupIds"/> that exist (filtered, so a missing id is
    /// absent from the answer rather than an error for the whole call).</summary>
    public async Task<IReadOnlyDictionary<string, string?>> SecurityGroupVpcsAsync(IReadOnlyList<string> groupIds, CancellationToken ct)
    {
        var result = new Dictionary<string, string?>(StringComparer.Ordinal);
        string? next = null;
        do
        {
            var request = new DescribeSecurityGroupsRequest { Filters = [new Filter("group-id", [.. groupIds])], MaxResults = 1000, NextToken = next };
            var page = await Call("DescribeSecurityGroups", c => ec2.DescribeSecurityGroupsAsync(request, c), ct).ConfigureAwait(false);
            foreach (var group in page.SecurityGroups ?? [])
            {
                if (group.GroupId is not null)
                {
                    result[group.GroupId] = group.VpcId;
                }
            }

            next = page.NextToken;
        }
        while (!string.IsNullOrEmpty(next));
        return result;
    }

    public async Task<EniView> CreateEniAsync(CreateNetworkInterfaceRequest request, CancellationToken ct)
    {
        var answer = await Call("CreateNetworkInterface", c => ec2.CreateNetworkInterfaceAsync(request, c), ct).ConfigureAwait(false);
        var eni = answer.NetworkInterface is { NetworkInterfaceId: not null } n ? EniView.From(n)
            : throw new Ec2AnswerException("CreateNetworkInterface answered without a network interface");
        return eni.MacAddress is null ? throw new Ec2AnswerException($"CreateNetworkInterface {eni.Id} answered without a MAC address") : eni;
    }

    public async Task<string> AttachAsync(string instanceId, string eniId, int deviceIndex, CancellationToken ct)
    {
        var request = new AttachNetworkInterfaceRequest { InstanceId = instanceId, NetworkInterfaceId = eniId, DeviceIndex = deviceIndex };
        var answer = await Call("AttachNetworkInterface", c => ec2.AttachNetworkInterfaceAsync(request, c), ct).ConfigureAwait(false);
        return answer.AttachmentId ?? throw new Ec2AnswerException($"AttachNetworkInterface {eniId} answered without an attachment id");
    }

    public Task SetDeleteOnTerminationAsync(string eniId, string attachmentId, CancellationToken ct)
    {
        var request = new ModifyNetworkInterfaceAttributeRequest
        {
            NetworkInterfaceId = eniId,
            Attachment = new NetworkInterfaceAttachmentChanges { AttachmentId = attachmentId, DeleteOnTermination = true },
        };
        return Call("ModifyNetworkInterfaceAttribute", c => ec2.ModifyNetworkInterfaceAttributeAsync(request, c), ct);
    }

    public async Task<string> AssociateAsync(string branchId, string trunkId, int vlanId, string clientToken, CancellationToken ct)
    {
        var request = new AssociateTrunkInterfaceRequest { BranchInterfaceId = branchId, TrunkInterfaceId = trunkId, VlanId = vlanId, ClientToken = clientToken };
        var answer = await Call("AssociateTrunkInterface", c => ec2.AssociateTrunkInterfaceAsync(request, c), ct).ConfigureAwait(false);
        var association = answer.InterfaceAssociation;
        if (association?.AssociationId is null)
        {
            throw new Ec2AnswerException($"AssociateTrunkInterface {branchId} answered without an association id");
        }

        if (association.VlanId is { } vlan && vlan != vlanId)
        {
            throw new Ec2AnswerException($"AssociateTrunkInterface {branchId} asked VLAN {vlanId}, answered VLAN {vlan}");
        }

        return association.AssociationId;
    }

    /// <summary>Branch ENI id → association (id, VLAN) for every association on the trunk.</summary>
    public async Task<IReadOnlyDictionary<string, (string AssociationId, int? VlanId)>> TrunkAssociationsAsync(string trunkId, CancellationToken ct)
    {
        var result = new Dictionary<string, (string, int?)>(StringComparer.Ordinal);
        string? next = null;
        do
        {
            var request = new DescribeTrunkInterfaceAssociationsRequest
            {
                Filters = [new Filter("trunk-interface-association.trunk-interface-id", [trunkId])],
                MaxResults = 255,
                NextToken = next,
            };
            var page = await Call("DescribeTrunkInterfaceAssociations", c => ec2.DescribeTrunkInterfaceAssociationsAsync(request, c), ct).ConfigureAwait(false);
            foreach (var a in page.InterfaceAssociations ?? [])
            {
                if (a.BranchInterfaceId is not null && a.AssociationId is not null && a.TrunkInterfaceId == trunkId)
                {
                    result[a.BranchInterfaceId] = (a.AssociationId, a.VlanId);
                }
            }

            next = page.NextToken;
        }
        while (!string.IsNullOrEmpty(next));
        return result;
    }

    /// <summary>DisassociateTrunkInterface; "not found" counts as done (DESIGN.md §2). False when it was already gone.</summary>
    public Task<bool> DisassociateIfExistsAsync(string associationId, CancellationToken ct) =>
        IfExists(() => Call("DisassociateTrunkInterface", c => ec2.DisassociateTrunkInterfaceAsync(new DisassociateTrunkInterfaceRequest { AssociationId = associationId }, c), ct));

    /// <summary>DeleteNetworkInterface; "not found" counts as done. False when it was already gone.</summary>
    public Task<bool> DeleteEniIfExistsAsync(string eniId, CancellationToken ct) =>
        IfExists(() => Call("DeleteNetworkInterface", c => ec2.DeleteNetworkInterfaceAsync(new DeleteNetworkInterfaceRequest { NetworkInterfaceId = eniId }, c), ct));

    private static async Task<bool> IfExists<T>(Func<Task<T>> call)
    {
        try
        {
            await call().ConfigureAwait(false);
            return true;
        }
        catch (AmazonServiceException e) when (Ec2CallPolicy.IsNotFound(e))
        {
            return false;
        }
    }

    public static List<Tag> Tags(IEnumerable<(string Key, string Value)> tags) => [.. tags.Select(t => new Tag(t.Key, t.Value))];

    public static List<TagSpecification> TagSpec(IEnumerable<(string Key, string Value)> tags) =>
        [new TagSpecification { ResourceType = ResourceType.NetworkInterface, Tags = Tags(tags) }];

    internal static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>EC2 answered something the agent cannot use (missing ids, wrong VLAN); the message says what.</summary>
internal sealed class Ec2AnswerException(string message) : Exception(message);
