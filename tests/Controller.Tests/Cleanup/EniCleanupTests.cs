using Amazon.EC2;
using Amazon.EC2.Model;
using BranchEni.Controller.Cleanup;
using BranchEni.Controller.Observability;
using BranchEni.Sandbox.Hosting;
using BranchEni.Sandbox.Seed;
using k8s;

namespace BranchEni.Controller.Tests.Cleanup;

/// <summary>
/// The leader's ENI cleanup against the sandbox: what is garbage (instance gone, pod gone), the cooldown measured by a
/// stepped clock, and everything it must keep. Passes are called directly; the Lease tests are in <see cref="CleanupLeaseTests"/>.
/// </summary>
public sealed class EniCleanupTests(CleanupWorld world) : IClassFixture<CleanupWorld>
{
    private static readonly TimeSpan Cooldown = TimeSpan.FromSeconds(300);

    private static string NewCluster() => "c" + Guid.NewGuid().ToString("N")[..10];

    [Fact]
    public async Task A_branch_of_a_vanished_instance_is_deleted_after_the_cooldown_and_not_before()
    {
        // "Gone" is what EC2 says of an instance it does not know.
        var unknown = await Assert.ThrowsAsync<AmazonEC2Exception>(() => world.Ec2.DescribeInstancesAsync(new DescribeInstancesRequest { InstanceIds = [CleanupWorld.GoneInstance] }));
        Assert.Equal("InvalidInstanceID.NotFound", unknown.ErrorCode);

        var cluster = NewCluster();
        var branch = await world.CreateEniAsync("branch", cluster, CleanupWorld.GoneInstance, podUid: Guid.NewGuid().ToString());
        var clock = new SteppedClock();
        var metrics = new ControllerMetrics();
        var job = world.Job(cluster, metrics, () => new HashSet<string>(), clock);

        Assert.Empty((await job.PassAsync(default)).Deleted);
        clock.Advance(Cooldown - TimeSpan.FromSeconds(1));
        var early = await job.PassAsync(default);
        Assert.Empty(early.Deleted);
        Assert.Equal(1, early.Suspects);
        Assert.True(world.Exists(branch));

        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal([branch], (await job.PassAsync(default)).Deleted);
        Assert.False(world.Exists(branch));
        Assert.Equal(1, metrics.EnisDeleted("branch", "instance-gone"));
        Assert.Contains("branch_eni_controller_enis_deleted_total{kind=\"branch\",reason=\"instance-gone\"} 1", metrics.Render(), StringComparison.Ordinal);
        Assert.Contains(world.Log.Lines, l => l.Contains(branch, StringComparison.Ordinal) && l.Contains(CleanupWorld.GoneInstance, StringComparison.Ordinal)
            && l.Contains("instance-gone", StringComparison.Ordinal) && l.StartsWith("Information: Deleted", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_branch_whose_pod_exists_is_kept_and_one_whose_pod_is_gone_everywhere_is_deleted_while_its_instance_lives()
    {
        var cluster = NewCluster();
        var uid = await world.CreatePodAsync("pod-" + cluster);
        var withPod = await world.CreateEniAsync("branch", cluster, DefaultSeed.NodeInstanceId, podUid: uid);
        var orphan = await world.CreateEniAsync("branch", cluster, DefaultSeed.NodeInstanceId, podUid: Guid.NewGuid().ToString());
        var pods = new ClusterPods(world.Kube, TimeSpan.FromMinutes(5), world.Logger);
        using var stop = new CancellationTokenSource();
        var informer = pods.RunAsync(stop.Token);
        await pods.Synced.WaitAsync(TimeSpan.FromSeconds(20));
        var clock = new SteppedClock();
        var metrics = new ControllerMetrics();
        var job = world.Job(cluster, metrics, pods.Uids, clock);

        await job.PassAsync(default);
        clock.Advance(Cooldown);
        Assert.Equal([orphan], (await job.PassAsync(default)).Deleted);
        Assert.True(world.Exists(withPod));
        Assert.Equal(1, metrics.EnisDeleted("branch", "pod-gone"));

        // Its pod deleted, the branch is garbage too, after its own cooldown.
        await world.Kube.Client.CoreV1.DeleteNamespacedPodAsync("pod-" + cluster, "default");
        await CleanupWorld.Eventually(() => pods.Uids()?.Contains(uid) == false, "the pod cache to drop the pod");
        Assert.Empty((await job.PassAsync(default)).Deleted);
        clock.Advance(Cooldown);
        Assert.Equal([withPod], (await job.PassAsync(default)).Deleted);

        await stop.CancelAsync();
        await informer;
    }

    [Fact]
    public async Task When_in_doubt_it_keeps_associated_attached_foreign_other_cluster_untagged_and_uncheckable_enis()
    {
        var cluster = NewCluster();
        var gone = CleanupWorld.GoneInstance;
        var trunk = await world.CreateEniAsync("trunk", cluster, gone);
        var associated = await world.CreateEniAsync("branch", cluster, gone, podUid: "p", trunk: trunk);
        await world.Ec2.AssociateTrunkInterfaceAsync(new AssociateTrunkInterfaceRequest { BranchInterfaceId = associated, TrunkInterfaceId = trunk, VlanId = 3 });
        var attached = await world.CreateEniAsync("trunk", cluster, gone);
        var attachment = (await world.Ec2.AttachNetworkInterfaceAsync(
            new AttachNetworkInterfaceRequest { NetworkInterfaceId = attached, InstanceId = DefaultSeed.NodeInstanceId, DeviceIndex = 2 })).AttachmentId;
        string[] kept =
        [
            trunk, associated, attached,
            await world.CreateEniAsync("branch", cluster, gone, owner: null),
            await world.CreateEniAsync("branch", cluster, gone, owner: "someone-else"),
            await world.CreateEniAsync("branch", NewCluster(), gone),
            await world.CreateEniAsync("branch", null, gone),
            await world.CreateEniAsync("branch", cluster, gone, clusterValue: "shared"),
            await world.CreateEniAsync("branch", cluster, instance: null),
            // Its association cannot be checked without the trunk its tag would name.
            await world.CreateEniAsync("branch", cluster, gone, trunk: null),
            // A live instance's branches: one without a pod tag, one whose pod cannot be looked up (cache not synced).
            await world.CreateEniAsync("branch", cluster, DefaultSeed.NodeInstanceId),
            await world.CreateEniAsync("branch", cluster, DefaultSeed.NodeInstanceId, podUid: Guid.NewGuid().ToString()),
            // A live instance's trunk: its agent's.
            await world.CreateEniAsync("trunk", cluster, DefaultSeed.NodeInstanceId),
        ];
        var deletesBefore = world.Calls("DeleteNetworkInterface");
        var clock = new SteppedClock();
        var job = world.Job(cluster, new ControllerMetrics(), () => null, clock);

        for (var pass = 0; pass < 3; pass++)
        {
            Assert.Empty((await job.PassAsync(default)).Deleted);
            clock.Advance(Cooldown * 2);
        }

        Assert.Equal(deletesBefore, world.Calls("DeleteNetworkInterface"));
        Assert.All(kept, id => Assert.True(world.Exists(id), $"{id} was deleted"));
        Assert.Contains(world.Log.Lines, l => l.Contains(associated, StringComparison.Ordinal) && l.Contains("trunk association", StringComparison.Ordinal));
        await world.Ec2.DetachNetworkInterfaceAsync(new DetachNetworkInterfaceRequest { AttachmentId = attachment, Force = true });
    }

    [Fact]
    public async Task A_trunk_of_a_gone_instance_is_deleted()
    {
        var cluster = NewCluster();
        var trunk = await world.CreateEniAsync("trunk", cluster, CleanupWorld.GoneInstance);
        var clock = new SteppedClock();
        var metrics = new ControllerMetrics();
        var job = world.Job(cluster, metrics, () => null, clock);

        await job.PassAsync(default);
        clock.Advance(Cooldown);
        Assert.Equal([trunk], (await job.PassAsync(default)).Deleted);
        Assert.False(world.Exists(trunk));
        Assert.Equal(1, metrics.EnisDeleted("trunk", "instance-gone"));
    }

    [Fact]
    public async Task A_delete_EC2_answers_not_found_is_done_not_an_error()
    {
        var cluster = NewCluster();
        var branch = await world.CreateEniAsync("branch", cluster, CleanupWorld.GoneInstance);
        var clock = new SteppedClock();
        var metrics = new ControllerMetrics();
        var job = world.Job(cluster, metrics, () => null, clock);
        await job.PassAsync(default);
        clock.Advance(Cooldown);

        // Another deleter got there between our describe and our delete.
        world.Sandbox.Admin.Faults = new FaultSettings
        {
            Actions =
            {
                ["DeleteNetworkInterface"] = new ActionFault
                {
                    ErrorRate = 1, ErrorCode = "InvalidNetworkInterfaceID.NotFound", HttpStatus = 400, Message = $"The networkInterface ID '{branch}' does not exist",
                },
            },
        };
        CleanupPass pass;
        try
        {
            pass = await job.PassAsync(default);
        }
        finally
        {
            world.Sandbox.Admin.Faults = new FaultSettings();
        }

        Assert.Empty(pass.Deleted);
        Assert.Equal([branch], pass.AlreadyGone);
        Assert.Equal(0, pass.Suspects);
        Assert.Equal(0, metrics.CleanupErrors);
        Assert.Equal(0, metrics.EnisDeleted("branch", "instance-gone"));
        await world.Ec2.DeleteNetworkInterfaceAsync(new DeleteNetworkInterfaceRequest { NetworkInterfaceId = branch });
    }
}
