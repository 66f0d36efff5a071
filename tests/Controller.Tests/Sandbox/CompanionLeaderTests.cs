using System.Globalization;

namespace BranchEni.Controller.Tests.Sandbox;

/// <summary>Only the Lease holder writes companions: a replica that sees another holder leaves them alone.</summary>
public sealed class CompanionLeaderTests(ControllerWorld world) : IClassFixture<ControllerWorld>
{
    [Fact]
    public async Task A_replica_that_is_not_leader_writes_no_companion_until_it_holds_the_Lease()
    {
        await world.StopControllerAsync();
        var now = DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);
        var lease = """
            {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "branch-eni-controller", "namespace": "kube-system"},
             "spec": {"holderIdentity": "another-replica", "leaseDurationSeconds": 3600, "acquireTime": "NOW", "renewTime": "NOW"}}
            """.Replace("NOW", now, StringComparison.Ordinal);
        await Kubectl.RunAsync(world, "admin", lease, "apply", "-f", "-");
        await world.StartControllerAsync();
        await CompanionTests.ApplyAsync(world, "db", CompanionTests.Db);

        // Several passes and membership intervals (1 s) go by: the policy is seen, nothing is written.
        await Task.Delay(TimeSpan.FromSeconds(4));
        Assert.False(world.Controller.Elector.IsLeader);
        Assert.True(world.Controller.NetworkPolicies.Get("app/db") is not null, "the informer has the policy");
        Assert.Null(await CompanionTests.GetAsync(world, "db-sg"));

        // The other holder hands the Lease back: this replica takes it and writes the companion.
        await Kubectl.RunAsync(world, "admin", null, "patch", "lease", "-n", "kube-system", "branch-eni-controller", "--type", "merge",
            "-p", """{"spec": {"holderIdentity": null}}""");
        await CompanionTests.WaitForCompanionAsync(world, "db", _ => true, "the companion from the new leader");
        Assert.True(world.Controller.Elector.IsLeader);
    }
}
