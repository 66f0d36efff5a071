using BranchEni.Sandbox.Hosting;

namespace BranchEni.Controller.Tests.Sandbox;

/// <summary>
/// EC2 trouble: the last membership stays in the companion for a while (real clients are not cut off by a blip), then
/// its addresses go (a stale /32 may by then belong to someone else); the pod peer, which needs no EC2, stays.
/// </summary>
public sealed class CompanionOutageTests(ControllerWorld world) : IClassFixture<ControllerWorld>
{
    [Fact]
    public async Task During_an_EC2_outage_the_last_addresses_are_kept_for_the_staleness_bound_then_dropped_and_restored_after()
    {
        await world.StopControllerAsync();
        await world.StartControllerAsync(o => o with { SgMembershipMaxStaleness = TimeSpan.FromSeconds(6) });
        using var ec2 = CompanionTests.Ec2(world);
        var instance = await CompanionTests.CreateEniAsync(ec2, CompanionTests.Db);
        await CompanionTests.ApplyAsync(world, "db", CompanionTests.Db);
        await CompanionTests.WaitForCompanionAsync(world, "db", c => c.ToJsonString().Contains(instance.Ip + "/32", StringComparison.Ordinal), "the instance's /32");

        world.Sandbox.Admin.Faults = new FaultSettings { Actions = { ["DescribeNetworkInterfaces"] = new ActionFault { ErrorRate = 1 } } };
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Contains(instance.Ip + "/32", (await CompanionTests.GetAsync(world, "db-sg"))!.ToJsonString(), StringComparison.Ordinal);
        Assert.Contains(world.Log.Lines, l => l.Contains("Cannot read security group membership from EC2", StringComparison.Ordinal));

        var dropped = await CompanionTests.WaitForCompanionAsync(world, "db", c => !c.ToJsonString().Contains("ipBlock", StringComparison.Ordinal), "the /32 to go");
        Assert.Contains("sg.aws.tigera.io/" + CompanionTests.Db, dropped.ToJsonString(), StringComparison.Ordinal);

        world.Sandbox.Admin.Faults = new FaultSettings();
        await CompanionTests.WaitForCompanionAsync(world, "db", c => c.ToJsonString().Contains(instance.Ip + "/32", StringComparison.Ordinal), "the /32 back");
    }
}
