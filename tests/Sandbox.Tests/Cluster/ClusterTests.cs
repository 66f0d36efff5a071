using System.Net;
using System.Text.Json;
using Amazon.EC2.Model;
using BranchEni.Sandbox.Seed;
using k8s;

namespace BranchEni.Sandbox.Tests.Cluster;

/// <summary>A sandbox of N nodes: instances and Nodes in order, one IMDS per instance, one account's buckets.</summary>
public sealed class ClusterTests
{
    [Fact]
    public async Task A_cluster_seed_has_n_running_instances_and_nodes_in_order()
    {
        var seed = ClusterSeed.Create(3);
        Assert.Equal(3, seed.Instances.Select(i => i.Id).Distinct(StringComparer.Ordinal).Count());
        Assert.All(seed.Instances, i => Assert.Equal("m5.4xlarge", i.InstanceType));
        await using var sandbox = await TestSandbox.StartAsync(o => o.Seed = seed);
        using var ec2 = TestSandbox.Ec2(sandbox);
        var instances = (await ec2.DescribeInstancesAsync(new DescribeInstancesRequest())).Reservations.SelectMany(r => r.Instances).ToList();
        Assert.Equal(seed.Instances.Select(i => i.Id).Order(StringComparer.Ordinal), instances.Select(i => i.InstanceId).Order(StringComparer.Ordinal));
        Assert.All(instances, i => Assert.Equal("running", i.State.Name.Value));
        Assert.All(instances, i => Assert.Single(i.NetworkInterfaces));

        using var kube = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = sandbox.Endpoints.Kubernetes.ToString() });
        var nodes = (await kube.CoreV1.ListNodeAsync()).Items;
        for (var k = 1; k <= 3; k++)
        {
            var node = Assert.Single(nodes, n => n.Metadata.Name == $"node-{k}");
            Assert.EndsWith("/" + seed.Instances[k - 1].Id, node.Spec.ProviderID, StringComparison.Ordinal);
        }

        Assert.Equal(3, nodes.Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => ClusterSeed.Create(0));
    }

    [Fact]
    public async Task Each_instance_has_its_own_imds_live_at_the_same_time_and_endpoints_json_lists_them()
    {
        var dir = Directory.CreateTempSubdirectory("sandbox-cluster-").FullName;
        try
        {
            var seed = ClusterSeed.Create(3);
            await using var sandbox = await TestSandbox.StartAsync(o => (o.Seed, o.StateDirectory) = (seed, dir));
            var byInstance = sandbox.Endpoints.ImdsByInstance;
            Assert.Equal(seed.Instances.Select(i => i.Id).Order(StringComparer.Ordinal), byInstance.Keys.Order(StringComparer.Ordinal));

            // Two agents ask at once, each its own node's IMDS, and each learns its own identity.
            var first = seed.Instances[0].Id;
            var second = seed.Instances[1].Id;
            var answers = await Task.WhenAll(ImdsClient.IdentityAsync(byInstance[first]), ImdsClient.IdentityAsync(byInstance[second]));
            Assert.Equal([first, second], answers);
            Assert.Equal(first, await ImdsClient.IdentityAsync(sandbox.Endpoints.Imds));

            Assert.Equal(byInstance.ToDictionary(kv => kv.Key, kv => kv.Value.GetLeftPart(UriPartial.Authority)), ImdsByInstanceIn(dir));

            var added = sandbox.Admin.AddInstance(new InstanceSeed
            {
                Id = "i-0c1a5e000000000ff", InstanceType = "m5.4xlarge", SubnetId = DefaultSeed.NodeSubnetId,
            }, nodeName: "node-4");
            Assert.Equal(added, await ImdsClient.IdentityAsync(sandbox.Endpoints.ImdsByInstance[added]));
            Assert.Equal(sandbox.Endpoints.ImdsByInstance[added].GetLeftPart(UriPartial.Authority), ImdsByInstanceIn(dir)[added]);
            Assert.Equal(4, ImdsByInstanceIn(dir).Count);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task An_instance_refused_for_a_duplicate_primary_eni_keeps_no_address()
    {
        await using var sandbox = await TestSandbox.StartAsync(o => o.Seed = ClusterSeed.Create(1));
        var taken = sandbox.Admin.Snapshot().NetworkInterfaces.First().Id;
        var seed = new InstanceSeed
        {
            Id = "i-0c1a5e000000000fe", InstanceType = "m5.4xlarge", SubnetId = DefaultSeed.NodeSubnetId,
            PrimaryEniId = taken, PrivateIp = "192.168.20.20",
        };
        Assert.Contains("already exists", Assert.Throws<ArgumentException>(() => sandbox.Admin.AddInstance(seed)).Message, StringComparison.Ordinal);

        // The address the refused instance asked for is still free, and nothing else of it was kept.
        seed.PrimaryEniId = null;
        Assert.Equal(seed.Id, sandbox.Admin.AddInstance(seed));
        Assert.Single(sandbox.Admin.Snapshot().NetworkInterfaces, e => e.PrivateIp == "192.168.20.20");
    }

    [Fact]
    public async Task Two_clients_drain_one_account_bucket_together()
    {
        await using var sandbox = await TestSandbox.StartAsync(o =>
        {
            o.Seed = ClusterSeed.Create(2);
            o.Throttling.Describe = new BranchEni.Sandbox.Hosting.BucketSettings { Capacity = 4, RefillPerSecond = 0 };
        });
        using var one = TestSandbox.Ec2(sandbox, maxErrorRetry: 0);
        using var two = TestSandbox.Ec2(sandbox, maxErrorRetry: 0);
        var filtered = new DescribeNetworkInterfacesRequest { Filters = [new Filter("status", ["in-use"])] };
        await one.DescribeNetworkInterfacesAsync(filtered);
        await two.DescribeNetworkInterfacesAsync(filtered);
        await one.DescribeNetworkInterfacesAsync(filtered);
        await two.DescribeNetworkInterfacesAsync(filtered);

        // Each client made only two calls, yet both are refused: the bucket is the account's, not the caller's.
        var e1 = await Assert.ThrowsAsync<Amazon.EC2.AmazonEC2Exception>(() => one.DescribeNetworkInterfacesAsync(filtered));
        var e2 = await Assert.ThrowsAsync<Amazon.EC2.AmazonEC2Exception>(() => two.DescribeNetworkInterfacesAsync(filtered));
        Assert.Equal(("RequestLimitExceeded", "RequestLimitExceeded"), (e1.ErrorCode, e2.ErrorCode));
        Assert.Equal(2, sandbox.Admin.CallCounts["DescribeNetworkInterfaces"].Throttled);
    }

    [Fact]
    public async Task Deleting_an_eni_twice_is_counted_as_not_found()
    {
        await using var sandbox = await TestSandbox.StartAsync();
        using var ec2 = TestSandbox.Ec2(sandbox, maxErrorRetry: 0);
        var eni = await Ec2.Ec2Steps.BranchAsync(ec2);
        await ec2.DeleteNetworkInterfaceAsync(new DeleteNetworkInterfaceRequest { NetworkInterfaceId = eni });
        var again = await Assert.ThrowsAsync<Amazon.EC2.AmazonEC2Exception>(() =>
            ec2.DeleteNetworkInterfaceAsync(new DeleteNetworkInterfaceRequest { NetworkInterfaceId = eni }));
        Assert.Equal("InvalidNetworkInterfaceID.NotFound", again.ErrorCode);
        var counts = sandbox.Admin.CallCounts["DeleteNetworkInterface"];
        Assert.Equal((2L, 1L), (counts.Calls, counts.Failed));
        Assert.Equal(1, Assert.Single(counts.Errors, kv => kv.Key == "InvalidNetworkInterfaceID.NotFound").Value);

        using var admin = new HttpClient { BaseAddress = sandbox.Endpoints.Admin };
        using var calls = JsonDocument.Parse(await admin.GetStringAsync("/ec2/calls"));
        Assert.Equal(1, calls.RootElement.GetProperty("DeleteNetworkInterface").GetProperty("errors").GetProperty("InvalidNetworkInterfaceID.NotFound").GetInt64());
    }

    private static Dictionary<string, string> ImdsByInstanceIn(string dir)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "endpoints.json")));
        return document.RootElement.GetProperty("imdsByInstance").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!, StringComparer.Ordinal);
    }
}

/// <summary>The IMDSv2 exchange an agent makes at start: a token, then its instance id.</summary>
internal static class ImdsClient
{
    public static async Task<string> IdentityAsync(Uri imds)
    {
        using var http = new HttpClient { BaseAddress = imds };
        using var put = new HttpRequestMessage(HttpMethod.Put, "/latest/api/token");
        put.Headers.Add("X-aws-ec2-metadata-token-ttl-seconds", "60");
        using var tokenAnswer = await http.SendAsync(put);
        Assert.Equal(HttpStatusCode.OK, tokenAnswer.StatusCode);
        using var get = new HttpRequestMessage(HttpMethod.Get, "/latest/meta-data/instance-id");
        get.Headers.Add("X-aws-ec2-metadata-token", await tokenAnswer.Content.ReadAsStringAsync());
        using var answer = await http.SendAsync(get);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        return await answer.Content.ReadAsStringAsync();
    }
}
