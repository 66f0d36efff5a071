using System.Security.Cryptography;

namespace BranchEni.Sandbox.Ec2.Model;

/// <summary>Identifiers in EC2's formats: a prefix and 17 lowercase hex digits; MACs locally administered.</summary>
internal static class Ec2Ids
{
    public static string New(string prefix) =>
        prefix + "-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(9))[..17];

    /// <summary>A unicast, locally administered MAC (bit 1 of the first octet set, bit 0 clear), as EC2 hands out.</summary>
    public static string NewMac()
    {
        var bytes = RandomNumberGenerator.GetBytes(6);
        bytes[0] = (byte)((bytes[0] & 0xfc) | 0x02);
        return string.Join(':', bytes.Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));
    }

    public static string NewRequestId() => Guid.NewGuid().ToString();
}
