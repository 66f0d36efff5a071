using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text.Json;
using BranchEni.Policy;

namespace BranchEni.Contracts;

/// <summary>
/// Checks an annotation element or record and turns it into a <see cref="BranchEniAssignment"/>. Every refusal names
/// the field (DESIGN.md §2: vlanId in 1..4094, a unicast MAC, privateIp inside subnetCidr).
/// </summary>
internal static class BranchEniParser
{
    public const int MinVlanId = 1;
    public const int MaxVlanId = 4094;

    /// <summary>VLAN ids whose table (100+N) would be 253..255; no EC2 instance has that many branches.</summary>
    public const int ReservedTableVlanFirst = 153;
    public const int ReservedTableVlanLast = 155;

    private static readonly System.Buffers.SearchValues<char> LowerHex = System.Buffers.SearchValues.Create("0123456789abcdef");

    /// <summary>Parses the annotation value (a JSON array; element 0 is used).</summary>
    public static BranchEniAssignment ParseAnnotation(string annotation)
    {
        List<BranchEniInfo>? elements;
        try
        {
            elements = JsonSerializer.Deserialize(annotation, ContractsJsonContext.Default.ListBranchEniInfo);
        }
        catch (JsonException e)
        {
            throw new BranchEniFormatException("vpc.amazonaws.com/pod-eni", $"is not a JSON array of branch ENIs: {e.Message}");
        }

        if (elements is null || elements.Count == 0 || elements[0] is null)
        {
            throw new BranchEniFormatException("vpc.amazonaws.com/pod-eni", "holds no branch ENI");
        }

        return Parse(elements[0]);
    }

    public static BranchEniAssignment Parse(BranchEniInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        var eniId = Require(info.EniId, "eniId");
        if (!eniId.StartsWith("eni-", StringComparison.Ordinal) || eniId.Length < 5 || eniId.AsSpan(4).ContainsAnyExcept(LowerHex))
        {
            throw new BranchEniFormatException("eniId", $"'{eniId}' is not an ENI id (eni-<hex>)");
        }

        var mac = ParseMac(Require(info.IfAddress, "ifAddress"), "ifAddress");
        var vlan = info.VlanId ?? throw new BranchEniFormatException("vlanId", "is missing");
        if (vlan is < MinVlanId or > MaxVlanId)
        {
            throw new BranchEniFormatException("vlanId", $"{vlan} is outside {MinVlanId}..{MaxVlanId}");
        }

        // Table 100+N must not be one of the kernel's own: 253 default, 254 main, 255 local (rtnetlink.h RT_TABLE_*).
        if (vlan is >= ReservedTableVlanFirst and <= ReservedTableVlanLast)
        {
            throw new BranchEniFormatException("vlanId", $"{vlan} would use routing table {vlan + 100}, one of the kernel's own (253-255)");
        }

        var subnet = ParseNetwork(Require(info.SubnetCidr, "subnetCidr"), "subnetCidr", AddressFamily.InterNetwork);
        var ip = ParseAddress(Require(info.PrivateIp, "privateIp"), "privateIp", AddressFamily.InterNetwork);
        if (!subnet.Contains(ip))
        {
            throw new BranchEniFormatException("privateIp", $"{ip} is outside subnetCidr {subnet}");
        }

        if (subnet.PrefixLength > 30)
        {
            throw new BranchEniFormatException("subnetCidr", $"{subnet} leaves no room for a gateway and hosts");
        }

        IPAddress? ipv6 = null;
        IPNetwork? subnetV6 = null;
        if (!string.IsNullOrEmpty(info.Ipv6Addr))
        {
            ipv6 = ParseAddress(info.Ipv6Addr, "ipv6Addr", AddressFamily.InterNetworkV6);
            subnetV6 = ParseNetwork(Require(info.SubnetV6Cidr, "subnetV6Cidr"), "subnetV6Cidr", AddressFamily.InterNetworkV6);
            if (!subnetV6.Value.Contains(ipv6))
            {
                throw new BranchEniFormatException("ipv6Addr", $"{ipv6} is outside subnetV6Cidr {subnetV6}");
            }
        }
        else if (!string.IsNullOrEmpty(info.SubnetV6Cidr))
        {
            subnetV6 = ParseNetwork(info.SubnetV6Cidr, "subnetV6Cidr", AddressFamily.InterNetworkV6);
        }

        return new BranchEniAssignment(eniId, mac, ip, ipv6, vlan, subnet, subnetV6,
            string.IsNullOrEmpty(info.AssociationId) ? null : info.AssociationId)
        {
            // Only the agent's record carries the decision; the EKS annotation has no such field.
            MetadataAccess = info is PodRecord record ? ParseMetadataAccess(record.MetadataAccess) : MetadataAccess.Allowed,
        };
    }

    /// <summary>The record's `metadataAccess`: exactly "Allowed" or "Denied"; absent (a record written before the
    /// field existed, whose pod was given access) reads as Allowed. Anything else is refused rather than guessed:
    /// a typo must neither open the metadata service nor silently close it.</summary>
    public static MetadataAccess ParseMetadataAccess(string? value) => value is null ? MetadataAccess.Allowed
        : MetadataAccessPolicy.FromExactName(value) ?? throw new BranchEniFormatException("metadataAccess", $"'{value}' is neither \"Allowed\" nor \"Denied\"");

    /// <summary>Parses "0e:ee:16:bd:41:31" (colons, case-insensitive); refuses multicast and all-zero addresses.</summary>
    public static PhysicalAddress ParseMac(string text, string field)
    {
        var parts = text.Split(':');
        if (parts.Length != 6)
        {
            throw new BranchEniFormatException(field, $"'{text}' is not a MAC address (six colon-separated hex pairs)");
        }

        var bytes = new byte[6];
        for (var i = 0; i < 6; i++)
        {
            if (parts[i].Length != 2 || !byte.TryParse(parts[i], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out bytes[i]))
            {
                throw new BranchEniFormatException(field, $"'{text}' is not a MAC address (six colon-separated hex pairs)");
            }
        }

        if ((bytes[0] & 1) != 0 || bytes.All(b => b == 0))
        {
            throw new BranchEniFormatException(field, $"'{text}' is not a unicast MAC address");
        }

        return new PhysicalAddress(bytes);
    }

    private static string Require(string? value, string field) =>
        string.IsNullOrEmpty(value) ? throw new BranchEniFormatException(field, "is missing") : value;

    private static IPAddress ParseAddress(string text, string field, AddressFamily family)
    {
        if (!IPAddress.TryParse(text, out var address) || address.AddressFamily != family || text.Contains('/', StringComparison.Ordinal))
        {
            var kind = family == AddressFamily.InterNetwork ? "an IPv4" : "an IPv6";
            throw new BranchEniFormatException(field, $"'{text}' is not {kind} address");
        }

        return address;
    }

    private static IPNetwork ParseNetwork(string text, string field, AddressFamily family)
    {
        // The address part must be the network address itself: "192.168.1.0/19" is a typo for something, not a subnet.
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (!IPNetwork.TryParse(text, out var network) || network.BaseAddress.AddressFamily != family || slash < 0
            || !IPAddress.TryParse(text.AsSpan(0, slash), out var written) || !written.Equals(network.BaseAddress))
        {
            var kind = family == AddressFamily.InterNetwork ? "an IPv4" : "an IPv6";
            throw new BranchEniFormatException(field, $"'{text}' is not {kind} CIDR with its network address");
        }

        return network;
    }
}

/// <summary>A field of a branch ENI annotation or record is missing or wrong; the message names the field.</summary>
internal sealed class BranchEniFormatException(string field, string problem) : Exception($"{field} {problem}")
{
    public string Field { get; } = field;

    /// <summary>The message without the field, for a caller that names the field its own way.</summary>
    public string Problem { get; } = problem;
}
