using System.Net;
using System.Net.NetworkInformation;
using BranchEni.Policy;

namespace BranchEni.Contracts;

/// <summary>A branch ENI assignment whose every field has been checked (see <see cref="BranchEniParser"/>).</summary>
internal sealed record BranchEniAssignment(
    string EniId,
    PhysicalAddress Mac,
    IPAddress PrivateIp,
    IPAddress? Ipv6Address,
    int VlanId,
    IPNetwork Subnet,
    IPNetwork? SubnetV6,
    string? AssociationId)
{
    /// <summary>Whether the pod may reach the instance metadata service (the record's `metadataAccess`).</summary>
    public MetadataAccess MetadataAccess { get; init; } = MetadataAccess.Allowed;

    /// <summary>The VPC router: the subnet's network address + 1.</summary>
    public IPAddress Gateway
    {
        get
        {
            Span<byte> bytes = stackalloc byte[4];
            Subnet.BaseAddress.TryWriteBytes(bytes, out _);
            var value = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes) + 1;
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
            return new IPAddress(bytes);
        }
    }

    /// <summary>The per-pod route table (<see cref="BranchKernelLayout.TableOf"/>).</summary>
    public uint RouteTable => BranchKernelLayout.TableOf(VlanId);

    /// <summary>The VLAN link's name on the node (<see cref="BranchKernelLayout.VlanLinkName"/>).</summary>
    public string VlanLinkName => BranchKernelLayout.VlanLinkName(VlanId);

    /// <summary>The MAC in the annotation's lower-case colon form.</summary>
    public string MacText => FormatMac(Mac);

    public static string FormatMac(PhysicalAddress mac) =>
        string.Join(':', mac.GetAddressBytes().Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));
}
