using System.Net;
using System.Xml.Linq;

namespace BranchEni.Sandbox.Tests.Ec2;

/// <summary>Malformed Query API calls get EC2's error document, never a crash or an HTML page.</summary>
public sealed class BadRequestTests
{
    private static async Task<(HttpStatusCode Status, string Code)> PostAsync(HttpClient http, string body, string contentType = "application/x-www-form-urlencoded")
    {
        using var content = new StringContent(body, System.Text.Encoding.UTF8, contentType);
        using var response = await http.PostAsync("/", content);
        var xml = XDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("Response", xml.Root!.Name.LocalName);
        Assert.False(string.IsNullOrEmpty(xml.Root.Element("RequestID")?.Value));
        return (response.StatusCode, xml.Root.Element("Errors")!.Element("Error")!.Element("Code")!.Value);
    }

    [Theory]
    [InlineData("Version=2016-11-15", "MissingAction")]
    [InlineData("Action=RunInstances&Version=2016-11-15", "InvalidAction")]
    [InlineData("Action=DescribeSubnets&Version=2014-01-01", "NoSuchVersion")]
    [InlineData("Action=DescribeNetworkInterfaces&Version=2016-11-15&MaxResults=2", "InvalidParameterValue")]
    [InlineData("Action=DescribeNetworkInterfaces&Version=2016-11-15&MaxResults=five", "InvalidParameterValue")]
    [InlineData("Action=AttachNetworkInterface&Version=2016-11-15&NetworkInterfaceId=eni-1&InstanceId=i-0a1b2c3d4e5f63001", "MissingParameter")]
    [InlineData("Action=CreateNetworkInterface&Version=2016-11-15&SubnetId=subnet-0a1b2c3d4e5f61001&InterfaceType=bogus", "InvalidParameterValue")]
    [InlineData("Action=DeleteNetworkInterface&Version=2016-11-15&NetworkInterfaceId=not-an-eni", "InvalidNetworkInterfaceID.Malformed")]
    [InlineData("Action=CreateTags&Version=2016-11-15&ResourceId.1=vpc-0a1b2c3d4e5f60001&Tag.1.Key=k", "InvalidID")]
    [InlineData("Action=DescribeNetworkInterfaces&Version=2016-11-15&Filter.1.Name=status", "InvalidParameterValue")]
    [InlineData("Action=CreateNetworkInterface&Version=2016-11-15&SubnetId=subnet-0a1b2c3d4e5f61001&DryRun=true", "DryRunOperation")]
    public async Task Bad_calls_get_ec2_error_documents(string body, string code)
    {
        await using var sandbox = await TestSandbox.StartAsync();
        using var http = new HttpClient { BaseAddress = sandbox.Endpoints.Ec2 };
        var (status, actual) = await PostAsync(http, body);
        Assert.Equal(code, actual);
        Assert.True((int)status is >= 400 and < 500, $"status {(int)status}");
        Assert.Single(sandbox.Admin.Snapshot().NetworkInterfaces);
    }

    [Fact]
    public async Task A_body_that_is_not_a_form_is_refused_in_ec2s_shape()
    {
        await using var sandbox = await TestSandbox.StartAsync();
        using var http = new HttpClient { BaseAddress = sandbox.Endpoints.Ec2 };
        var (status, code) = await PostAsync(http, "{\"Action\": \"DescribeSubnets\"}", "application/json");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("InvalidParameterValue", code);
    }
}
