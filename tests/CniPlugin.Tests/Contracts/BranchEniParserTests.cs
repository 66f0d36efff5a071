using System.Net;
using BranchEni.Contracts;
using BranchEni.Policy;

namespace BranchEni.Cni.Tests.Contracts;

public sealed class BranchEniParserTests
{
    private const string Valid = """
        [{"eniId":"eni-0f1a2b3c4d5e6f708","ifAddress":"0e:ee:16:bd:41:31","privateIp":"192.168.19.148","ipv6Addr":"",
          "vlanId":1,"subnetCidr":"192.168.0.0/19","subnetV6Cidr":"","associationID":"trunk-assoc-0a1b2c3d"}]
        """;

    [Fact]
    public void TheEksAnnotationParsesToTheAssignmentWithGatewayTableAndLinkName()
    {
        var eni = BranchEniParser.ParseAnnotation(Valid);

        Assert.Equal("eni-0f1a2b3c4d5e6f708", eni.EniId);
        Assert.Equal("0e:ee:16:bd:41:31", eni.MacText);
        Assert.Equal(IPAddress.Parse("192.168.19.148"), eni.PrivateIp);
        Assert.Equal(IPAddress.Parse("192.168.0.1"), eni.Gateway);
        Assert.Equal(1, eni.VlanId);
        Assert.Equal(101u, eni.RouteTable);
        Assert.Equal("vlan.eth.1", eni.VlanLinkName);
        Assert.Null(eni.Ipv6Address);
        Assert.Equal("trunk-assoc-0a1b2c3d", eni.AssociationId);
    }

    [Theory]
    [InlineData("\"vlanId\":1", "\"vlanId\":0", "vlanId")]
    [InlineData("\"vlanId\":1", "\"vlanId\":4095", "vlanId")]
    [InlineData("\"vlanId\":1", "\"vlanId\":153", "vlanId")] // table 253: the kernel's default table
    [InlineData("\"vlanId\":1", "\"vlanId\":155", "vlanId")] // table 255: local
    [InlineData("\"vlanId\":1", "\"VlanId\":1", "vlanId")] // case-sensitive: VlanId is not vlanId
    [InlineData("0e:ee:16:bd:41:31", "0e:ee:16:bd:41", "ifAddress")]
    [InlineData("0e:ee:16:bd:41:31", "0f:ee:16:bd:41:31", "ifAddress")] // multicast bit
    [InlineData("0e:ee:16:bd:41:31", "0e-ee-16-bd-41-31", "ifAddress")]
    [InlineData("192.168.19.148", "10.0.0.5", "privateIp")]
    [InlineData("192.168.19.148", "192.168.19.148/32", "privateIp")]
    [InlineData("192.168.0.0/19", "192.168.1.0/19", "subnetCidr")]
    [InlineData("eni-0f1a2b3c4d5e6f708", "i-0f1a2b3c4d5e6f708", "eniId")]
    [InlineData("\"ipv6Addr\":\"\"", "\"ipv6Addr\":\"2001:db8::5\"", "subnetV6Cidr")]
    public void BadFieldsAreRefusedNamingTheField(string from, string to, string field)
    {
        var error = Assert.Throws<BranchEniFormatException>(() => BranchEniParser.ParseAnnotation(Valid.Replace(from, to, StringComparison.Ordinal)));

        Assert.Equal(field, error.Field);
    }

    [Theory]
    [InlineData("")]
    [InlineData("[]")]
    [InlineData("{}")]
    [InlineData("[null]")]
    [InlineData("not json")]
    public void AnnotationsThatAreNotAnArrayOfEnisAreRefused(string annotation)
    {
        var error = Assert.Throws<BranchEniFormatException>(() => BranchEniParser.ParseAnnotation(annotation));

        Assert.Equal("vpc.amazonaws.com/pod-eni", error.Field);
    }

    [Theory]
    [InlineData(null, MetadataAccess.Allowed)] // a record written before the field existed: its pod had access
    [InlineData("Allowed", MetadataAccess.Allowed)]
    [InlineData("Denied", MetadataAccess.Denied)]
    public void ARecordsMetadataAccessIsReadExactly(string? value, MetadataAccess expected)
    {
        var record = new PodRecord
        {
            EniId = "eni-0f1", IfAddress = "0e:ee:16:bd:41:31", PrivateIp = "10.77.0.20", VlanId = 7, SubnetCidr = "10.77.0.0/24",
            MetadataAccess = value,
        };

        Assert.Equal(expected, BranchEniParser.Parse(record).MetadataAccess);
    }

    [Theory]
    [InlineData("denied")]
    [InlineData("")]
    [InlineData("true")]
    public void AnyOtherMetadataAccessIsRefusedNamingTheField(string value)
    {
        var error = Assert.Throws<BranchEniFormatException>(() => BranchEniParser.ParseMetadataAccess(value));

        Assert.Equal("metadataAccess", error.Field);
    }

    [Fact]
    public void TheEksAnnotationCarriesNoDecisionAndReadsAsAllowed() =>
        Assert.Equal(MetadataAccess.Allowed, BranchEniParser.ParseAnnotation(Valid).MetadataAccess);
}
