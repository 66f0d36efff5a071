using BranchEni.Controller.Configuration;
using BranchEni.Controller.Tests.Sandbox;

namespace BranchEni.Controller.Tests.Cleanup;

/// <summary>The real controller with a cluster name runs the cleanup as leader, with the short periods the soak uses.</summary>
public sealed class CleanupControllerWorld : ControllerWorld
{
    public const string Cluster = "wired";

    internal override ControllerOptions Configure(ControllerOptions options) => options with
    {
        ClusterName = Cluster,
        EniCleanupInterval = TimeSpan.FromSeconds(1),
        EniCleanupCooldown = TimeSpan.FromSeconds(1),
    };
}

public sealed class ControllerCleanupTests(CleanupControllerWorld world) : IClassFixture<CleanupControllerWorld>
{
    [Fact]
    public async Task The_leading_controller_deletes_its_clusters_garbage_and_reports_it_in_metrics_and_the_log()
    {
        using var ec2 = CompanionTests.Ec2(world);
        var garbage = await CleanupWorld.CreateEniAsync(ec2, "branch", CleanupControllerWorld.Cluster, CleanupWorld.GoneInstance, podUid: "uid-1");
        var otherCluster = await CleanupWorld.CreateEniAsync(ec2, "branch", "another", CleanupWorld.GoneInstance);

        await ControllerWorld.Eventually(() => Task.FromResult(!world.Sandbox.Admin.Snapshot().NetworkInterfaces.Any(e => e.Id == garbage)), "the leader to delete the garbage ENI");
        Assert.Contains(world.Sandbox.Admin.Snapshot().NetworkInterfaces, e => e.Id == otherCluster);
        var metrics = await world.Http.GetStringAsync(new Uri(world.Health, "/metrics"));
        Assert.Contains("branch_eni_controller_enis_deleted_total{kind=\"branch\",reason=\"instance-gone\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("branch_eni_controller_ec2_calls_total{action=\"DeleteNetworkInterface\",outcome=\"success\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains(world.Log.Lines, l => l.StartsWith("Information: Deleted", StringComparison.Ordinal) && l.Contains(garbage, StringComparison.Ordinal)
            && l.Contains("uid-1", StringComparison.Ordinal) && l.Contains("instance-gone", StringComparison.Ordinal));
    }
}
