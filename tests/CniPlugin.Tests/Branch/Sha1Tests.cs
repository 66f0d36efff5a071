using System.Security.Cryptography;
using System.Text;
using BranchEni.Cni.Branch;

namespace BranchEni.Cni.Tests.Branch;

public sealed class Sha1Tests
{
    [Theory]
    [InlineData("", "da39a3ee5e6b4b0d3255bfef95601890afd80709")]
    [InlineData("abc", "a9993e364706816aba3e25717850c26c9cd0d89d")]
    [InlineData("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "84983e441c3bd26ebaae4aa1f95129e5e54670f1")]
    public void MatchesTheFips180TestVectors(string message, string expected)
    {
        Assert.Equal(expected, Convert.ToHexStringLower(Sha1.Hash(Encoding.ASCII.GetBytes(message))));
    }

    [Fact]
    public void MatchesTheFrameworkOnEveryLengthAroundTheBlockBoundaries()
    {
        var random = new Random(1234);
        for (var length = 0; length <= 300; length++)
        {
            var data = new byte[length];
            random.NextBytes(data);
            Assert.Equal(SHA1.HashData(data), Sha1.Hash(data));
        }
    }

    [Fact]
    public void HostVethNameIsThePrefixAndElevenHexOfTheNamespaceDotPodHash()
    {
        var expected = "vlan" + Convert.ToHexStringLower(SHA1.HashData("default.green"u8))[..11];

        Assert.Equal(expected, BranchLayout.HostVethName("vlan", "default", "green"));
    }
}
