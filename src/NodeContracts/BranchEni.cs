using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
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

    /// <summary>IPv6 gateway of every VPC subnet (DESIGN.md §2).</summary>
    public static readonly IPAddress Ipv6Gateway = IPAddress.Parse("fe80:ec2::1");

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

    /// <summary>The per-pod route table: 100 + VLAN id.</summary>
    public int RouteTable => 100 + VlanId;

    /// <summary>The VLAN link's name on the node.</summary>
    public string VlanLinkName => $"vlan.eth.{VlanId}";

    /// <summary>The MAC in the annotation's lower-case colon form.</summary>
    public string MacText => FormatMac(Mac);

    public static string FormatMac(PhysicalAddress mac) =>
        string.Join(':', mac.GetAddressBytes().Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));

    internal static bool IsIPv4(IPAddress address) => address.AddressFamily == AddressFamily.InterNetwork;
}
