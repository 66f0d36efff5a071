using System.Net;
using Amazon.EC2.Model;
using BranchEni.Sandbox.Seed;

namespace BranchEni.Sandbox.Tests.Imds;

/// <summary>IMDSv2 over plain HTTP on the exact paths the agent and the SDK read.</summary>
public sealed class ImdsTests
{
    private static async Task<string> TokenAsync(HttpClient http, string ttl = "60")
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, "/latest/api/token");
        request.Headers.Add("X-aws-ec2-metadata-token-ttl-seconds", ttl);
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(ttl, response.Headers.GetValues("X-aws-ec2-metadata-token-ttl-seconds").Single());
        return await response.Content.ReadAsStringAsync();
    }

    private static async Task<(HttpStatusCode, string)> GetAsync(HttpClient http, string path, string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (token is not null)
        {
            request.Headers.Add("X-aws-ec2-metadata-token", token);
        }

        using var response = await http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Without_a_valid_token_every_read_is_401_and_a_token_needs_a_ttl()
    {
        await using var sandbox = await TestSandbox.StartAsync();
        using var http = new HttpClient { BaseAddress = sandbox.Endpoints.Imds };
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(http, "/latest/meta-data/instance-id", null)).Item1);
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(http, "/latest/meta-data/instance-id", "forged")).Item1);
        using var noTtl = await http.PutAsync("/latest/api/token", null);
        Assert.Equal(HttpStatusCode.BadRequest, noTtl.StatusCode);
        using var tooLong = new HttpRequestMessage(HttpMethod.Put, "/latest/api/token");
        tooLong.Headers.Add("X-aws-ec2-metadata-token-ttl-seconds", "21601");
        Assert.Equal(HttpStatusCode.BadRequest, (await http.SendAsync(tooLong)).StatusCode);

        var expiring = await TokenAsync(http, "1");
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(http, "/latest/meta-data/instance-id", expiring)).Item1);
        await Task.Delay(1100);
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(http, "/latest/meta-data/instance-id", expiring)).Item1);
    }

    [Fact]
    public async Task Metadata_describes_the_node_and_follows_attachments_as_they_change()
    {
        await using var sandbox = await TestSandbox.StartAsync();
        using var http = new HttpClient { BaseAddress = sandbox.Endpoints.Imds };
        using var ec2 = TestSandbox.Ec2(sandbox);
        var token = await TokenAsync(http);
        async Task<string> Get(string path)
        {
            var (status, body) = await GetAsync(http, "/latest/meta-data/" + path, token);
            Assert.True(status == HttpStatusCode.OK, $"{path}: {(int)status}");
            return body;
        }

        Assert.Equal(DefaultSeed.NodeInstanceId, await Get("instance-id"));
        Assert.Equal("m5.large", await Get("instance-type"));
        Assert.Equal("us-west-2", await Get("placement/region"));
        Assert.Equal("us-west-2a", await Get("placement/availability-zone"));
        var mac = await Get("mac");
        Assert.Equal(mac + "/", await Get("network/interfaces/macs/"));
        var prefix = $"network/interfaces/macs/{mac}/";
        Assert.Equal("0", await Get(prefix + "device-number"));
        Assert.Equal(DefaultSeed.NodeSubnetId, await Get(prefix + "subnet-id"));
        Assert.Equal("vpc-0a1b2c3d4e5f60001", await Get(prefix + "vpc-id"));
        Assert.Equal("192.168.0.0/19", await Get(prefix + "subnet-ipv4-cidr-block"));
        Assert.Equal(DefaultSeed.NodeSecurityGroupId, await Get(prefix + "security-group-ids"));
        Assert.Equal("192.168.10.10", await Get(prefix + "local-ipv4s"));
        var primaryId = await Get(prefix + "interface-id");
        Assert.StartsWith("eni-", primaryId, StringComparison.Ordinal);

        var trunk = (await ec2.CreateNetworkInterfaceAsync(new CreateNetworkInterfaceRequest
        {
            SubnetId = DefaultSeed.NodeSubnetId, InterfaceType = Amazon.EC2.NetworkInterfaceCreationType.Trunk,
            Groups = ["sg-0a1b2c3d4e5f62001", "sg-0a1b2c3d4e5f62002"],
        })).NetworkInterface;
        var attachment = (await ec2.AttachNetworkInterfaceAsync(new AttachNetworkInterfaceRequest
        {
            NetworkInterfaceId = trunk.NetworkInterfaceId, InstanceId = DefaultSeed.NodeInstanceId, DeviceIndex = 2,
        })).AttachmentId;
        Assert.Equal($"{mac}/\n{trunk.MacAddress}/", await Get("network/interfaces/macs/"));
        var trunkPrefix = $"network/interfaces/macs/{trunk.MacAddress}/";
        Assert.Equal("2", await Get(trunkPrefix + "device-number"));
        Assert.Equal(trunk.NetworkInterfaceId, await Get(trunkPrefix + "interface-id"));
        Assert.Equal("sg-0a1b2c3d4e5f62001\nsg-0a1b2c3d4e5f62002", await Get(trunkPrefix + "security-group-ids"));

        await ec2.DetachNetworkInterfaceAsync(new DetachNetworkInterfaceRequest { AttachmentId = attachment });
        Assert.Equal(mac + "/", await Get("network/interfaces/macs/"));
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(http, "/latest/meta-data/" + trunkPrefix + "device-number", token)).Item1);
    }

    [Fact]
    public async Task A_second_node_joins_at_runtime_and_imds_can_describe_it()
    {
        await using var sandbox = await TestSandbox.StartAsync();
        var id = sandbox.Admin.AddInstance(new InstanceSeed
        {
            Id = "i-0a1b2c3d4e5f63077", InstanceType = "c5.large", SubnetId = DefaultSeed.NodeSubnetId, PrivateIp = "192.168.10.77",
        }, nodeName: "node-2");
        using var http = new HttpClient { BaseAddress = sandbox.Endpoints.Imds };
        var token = await TokenAsync(http);
        Assert.Equal(DefaultSeed.NodeInstanceId, (await GetAsync(http, "/latest/meta-data/instance-id", token)).Item2);
        sandbox.Admin.ImdsInstanceId = id;
        Assert.Equal(id, (await GetAsync(http, "/latest/meta-data/instance-id", token)).Item2);
        Assert.Equal("c5.large", (await GetAsync(http, "/latest/meta-data/instance-type", token)).Item2);
        Assert.Throws<ArgumentException>(() => sandbox.Admin.ImdsInstanceId = "i-0000000000000dead");

        using var kube = new HttpClient { BaseAddress = sandbox.Endpoints.Kubernetes };
        var node = System.Text.Json.Nodes.JsonNode.Parse(await kube.GetStringAsync("/api/v1/nodes/node-2"))!;
        Assert.Equal("c5.large", node["metadata"]!["labels"]!["node.kubernetes.io/instance-type"]!.GetValue<string>());
        Assert.Equal($"aws:///us-west-2a/{id}", node["spec"]!["providerID"]!.GetValue<string>());
    }
}
