using System.Diagnostics;
using System.Net;
using Amazon.EC2;
using Amazon.EC2.Model;
using BranchEni.Sandbox.Hosting;

namespace BranchEni.Sandbox.Tests.Ec2;

/// <summary>Token buckets, throttle bursts, injected errors and latency, observed through the real SDK.</summary>
public sealed class ThrottlingAndFaultTests
{
    [Fact]
    public async Task An_empty_bucket_answers_request_limit_exceeded_with_503()
    {
        await using var sandbox = await TestSandbox.StartAsync(o =>
            o.Throttling.Describe = new BucketSettings { Capacity = 2, RefillPerSecond = 0 });
        using var ec2 = TestSandbox.Ec2(sandbox, maxErrorRetry: 0);
        var filtered = new DescribeNetworkInterfacesRequest { Filters = [new Filter("status", ["in-use"])] };
        await ec2.DescribeNetworkInterfacesAsync(filtered);
        await ec2.DescribeNetworkInterfacesAsync(filtered);
        var e = await Assert.ThrowsAsync<AmazonEC2Exception>(() => ec2.DescribeNetworkInterfacesAsync(filtered));
        Assert.Equal("RequestLimitExceeded", e.ErrorCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, e.StatusCode);

        // Other classes have their own buckets: the unfiltered call is not affected by the Describe bucket.
        await ec2.DescribeNetworkInterfacesAsync(new DescribeNetworkInterfacesRequest());
        Assert.Equal(1, sandbox.Admin.CallCounts["DescribeNetworkInterfaces"].Throttled);
    }

    [Fact]
    public async Task Buckets_refill_at_the_configured_rate()
    {
        await using var sandbox = await TestSandbox.StartAsync(o =>
            o.Throttling.CreateTags = new BucketSettings { Capacity = 1, RefillPerSecond = 4 });
        using var ec2 = TestSandbox.Ec2(sandbox, maxErrorRetry: 0);
        var eni = await Ec2Steps.BranchAsync(ec2);
        var tag = new CreateTagsRequest { Resources = [eni], Tags = [new Tag("k", "v")] };
        await ec2.CreateTagsAsync(tag);
        await Assert.ThrowsAsync<AmazonEC2Exception>(() => ec2.CreateTagsAsync(tag));
        await Task.Delay(400);
        await ec2.CreateTagsAsync(tag);
    }

    [Fact]
    public async Task A_throttle_burst_is_retried_by_the_sdk_until_it_passes()
    {
        await using var sandbox = await TestSandbox.StartAsync();
        using var ec2 = TestSandbox.Ec2(sandbox);
        sandbox.Admin.AddThrottleBurst(new ThrottleBurst { Action = "CreateNetworkInterface", Count = 2 });
        var eni = await Ec2Steps.BranchAsync(ec2);
        Assert.StartsWith("eni-", eni, StringComparison.Ordinal);
        var counts = sandbox.Admin.CallCounts["CreateNetworkInterface"];
        Assert.Equal(3, counts.Calls);
        Assert.Equal(2, counts.Throttled);
        Assert.Single(sandbox.Admin.Snapshot().NetworkInterfaces, n => n.Id == eni);
    }

    [Fact]
    public async Task Injected_errors_and_latency_spikes_follow_the_admin_settings()
    {
        await using var sandbox = await TestSandbox.StartAsync();
        using var ec2 = TestSandbox.Ec2(sandbox, maxErrorRetry: 0);
        using var http = new HttpClient { BaseAddress = sandbox.Endpoints.Admin };
        using var put = await http.PutAsync("/ec2/faults", new StringContent(
            """
            {"actions": {"AttachNetworkInterface": {"errorRate": 1, "errorCode": "Unavailable", "httpStatus": 503, "message": "try later"},
                         "DescribeSubnets": {"latencySpikeRate": 1, "latencySpikeMilliseconds": 300}}}
            """));
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);

        var eni = await Ec2Steps.BranchAsync(ec2);
        var e = await Assert.ThrowsAsync<AmazonEC2Exception>(() => ec2.AttachNetworkInterfaceAsync(new AttachNetworkInterfaceRequest
        {
            NetworkInterfaceId = eni, InstanceId = Seed.DefaultSeed.NodeInstanceId, DeviceIndex = 1,
        }));
        Assert.Equal("Unavailable", e.ErrorCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, e.StatusCode);
        Assert.Equal("available", sandbox.Admin.Snapshot().NetworkInterfaces.Single(n => n.Id == eni).Status);

        var clock = Stopwatch.StartNew();
        await ec2.DescribeSubnetsAsync(new DescribeSubnetsRequest());
        Assert.True(clock.ElapsedMilliseconds >= 290, $"took {clock.ElapsedMilliseconds} ms");

        using var bad = await http.PutAsync("/ec2/faults", new StringContent("""{"actions": {"*": {"errorRate": 7}}}"""));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("0..1", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var clear = await http.DeleteAsync("/ec2/faults");
        await ec2.AttachNetworkInterfaceAsync(new AttachNetworkInterfaceRequest
        {
            NetworkInterfaceId = eni, InstanceId = Seed.DefaultSeed.NodeInstanceId, DeviceIndex = 1,
        });
        Assert.Equal(1, sandbox.Admin.CallCounts["AttachNetworkInterface"].Faulted);
    }

    [Fact]
    public async Task The_default_buckets_are_the_documented_aws_values()
    {
        await using var sandbox = await TestSandbox.StartAsync();
        var t = sandbox.Admin.Throttling;
        Assert.Equal((100, 5), (t.CreateNetworkInterface.Capacity, t.CreateNetworkInterface.RefillPerSecond));
        Assert.Equal((100, 5), (t.DeleteNetworkInterface.Capacity, t.DeleteNetworkInterface.RefillPerSecond));
        Assert.Equal((100, 10), (t.CreateTags.Capacity, t.CreateTags.RefillPerSecond));
        Assert.Equal((50, 5), (t.Mutating.Capacity, t.Mutating.RefillPerSecond));
        Assert.Equal((100, 20), (t.Describe.Capacity, t.Describe.RefillPerSecond));
        Assert.Equal((50, 10), (t.UnfilteredDescribeNetworkInterfaces.Capacity, t.UnfilteredDescribeNetworkInterfaces.RefillPerSecond));
    }
}
