using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Amazon.EC2.Model;
using BranchEni.Sandbox.Fabric;
using BranchEni.Sandbox.Hosting;
using BranchEni.Sandbox.Seed;
using BranchEni.Sandbox.Tests.Ec2;

namespace BranchEni.Sandbox.Tests.Fabric;

/// <summary>
/// The demo's VPC (tools/demo/seed.json): security-group rules and stand-alone ENIs as the SDK sees them, the
/// fabric's plan for a node with a trunk and a branch, and its nftables ruleset loaded into a real kernel.
/// The datapath itself (VLANs) runs in the micro-VM through ./demo.sh.
/// </summary>
public sealed class VpcFabricPlanTests
{
    private const string Node = "i-0de0de0de0de03001";
    private const string Subnet = "subnet-0de0de0de0de01001";
    private const string AccessDb = "sg-0de0de0de0de02002";
    private const string DbSg = "sg-0de0de0de0de02003";
    private const string Rds = "eni-0db0db0db0db04002";

    private static SandboxSeed DemoSeed()
    {
        var path = Path.Combine(BranchEni.Testing.RepoPaths.Root, "tools", "demo", "seed.json");
        return JsonSerializer.Deserialize(File.ReadAllText(path), SeedJsonContext.Default.SandboxSeed)!;
    }

    [Fact]
    public async Task Security_group_rules_and_standalone_enis_are_served_through_the_sdk()
    {
        await using var sandbox = await TestSandbox.StartAsync(o => o.Seed = DemoSeed());
        using var ec2 = TestSandbox.Ec2(sandbox);

        var db = Assert.Single((await ec2.DescribeSecurityGroupsAsync(new DescribeSecurityGroupsRequest { GroupIds = [DbSg] })).SecurityGroups);
        var rule = Assert.Single(db.IpPermissions);
        Assert.Equal(("tcp", 5432, 5432), (rule.IpProtocol, rule.FromPort, rule.ToPort));
        Assert.Equal(AccessDb, Assert.Single(rule.UserIdGroupPairs).GroupId);
        Assert.Equal("0.0.0.0/0", Assert.Single(Assert.Single(db.IpPermissionsEgress).Ipv4Ranges).CidrIp);
        var access = Assert.Single((await ec2.DescribeSecurityGroupsAsync(new DescribeSecurityGroupsRequest { GroupIds = [AccessDb] })).SecurityGroups);
        Assert.Empty(access.IpPermissions ?? []);

        var rds = Assert.Single((await ec2.DescribeNetworkInterfacesAsync(new DescribeNetworkInterfacesRequest { NetworkInterfaceIds = [Rds] })).NetworkInterfaces);
        Assert.Equal(("available", "RDSNetworkInterface", "192.168.20.50"), (rds.Status.Value, rds.Description, rds.PrivateIpAddress));
        Assert.Equal(DbSg, Assert.Single(rds.Groups).GroupId);
    }

    [Fact]
    public async Task Plan_follows_the_trunk_and_its_branch_associations()
    {
        await using var sandbox = await TestSandbox.StartAsync(o => o.Seed = DemoSeed());
        using var ec2 = TestSandbox.Ec2(sandbox);
        Assert.Empty(FabricPlan.Of(sandbox.Admin.Snapshot(), Node).Branches);

        var trunk = await Ec2Steps.AttachedTrunkAsync(ec2, Node, subnetId: Subnet);
        var branch = (await ec2.CreateNetworkInterfaceAsync(new CreateNetworkInterfaceRequest { SubnetId = Subnet, Groups = [AccessDb] })).NetworkInterface;
        await ec2.AssociateTrunkInterfaceAsync(new AssociateTrunkInterfaceRequest { BranchInterfaceId = branch.NetworkInterfaceId, TrunkInterfaceId = trunk, VlanId = 7 });
        var plan = FabricPlan.Of(sandbox.Admin.Snapshot(), Node);

        Assert.Equal(["ens5", "ens7"], plan.NodeNics.Select(n => n.NodeName));
        var primary = plan.NodeNics[0];
        Assert.Equal((false, "192.168.10.10", 19, "192.168.0.1"), (primary.IsTrunk, primary.Ip.ToString(), primary.SubnetPrefix, primary.Gateway.ToString()));
        Assert.True(plan.NodeNics[1].IsTrunk);
        var vlan = Assert.Single(plan.Branches);
        Assert.Equal((7, plan.NodeNics[1].RouterName, branch.PrivateIpAddress, branch.MacAddress), (vlan.VlanId, vlan.TrunkRouterName, vlan.Ip.ToString(), vlan.Mac));
        Assert.True(vlan.RouterName.Length <= 15, vlan.RouterName);
        Assert.Equal([("instance", "192.168.20.60"), ("rds", "192.168.20.50")],
            plan.Hosts.Select(h => (h.Netns, h.Ip.ToString())).OrderBy(h => h.Netns, StringComparer.Ordinal));
        var route = Assert.Single(plan.Routes);
        Assert.Equal(("10.88.0.0/24", IPAddress.Parse("192.168.10.10")), (route.Destination.ToString(), route.NextHop));

        // The branch is in access-db, so db-sg's rule admits it; nothing admits the node's own address.
        Assert.Contains($"ip daddr 192.168.20.50 jump to_{Rds.Replace('-', '_')}", plan.Ruleset, StringComparison.Ordinal);
        Assert.Contains($"meta l4proto tcp th dport 5432 ip saddr @sg_{AccessDb.Replace('-', '_')} accept", plan.Ruleset, StringComparison.Ordinal);
        Assert.Contains($"elements = {{ {branch.PrivateIpAddress} }}", plan.Ruleset, StringComparison.Ordinal);
        // The node's pod range is delivered to its primary ENI, so the node's groups filter it like the ENI's own address.
        Assert.Contains($"ip daddr 10.88.0.0/24 jump to_{primary.EniId.Replace('-', '_')}", plan.Ruleset, StringComparison.Ordinal);

        await ec2.DisassociateTrunkInterfaceAsync(new DisassociateTrunkInterfaceRequest { AssociationId = (await ec2.DescribeTrunkInterfaceAssociationsAsync(new())).InterfaceAssociations[0].AssociationId });
        Assert.Empty(FabricPlan.Of(sandbox.Admin.Snapshot(), Node).Branches);
    }

    [Fact]
    public async Task Plan_plumbs_every_running_instance_tagged_with_a_netns_into_that_namespace()
    {
        var seed = ClusterSeed.Create(3, "m5.large");
        seed.Instances[1].Tags[FabricPlan.NetnsTag] = "node-2";
        await using var sandbox = await TestSandbox.StartAsync(o => o.Seed = seed);
        using var ec2 = TestSandbox.Ec2(sandbox);
        var trunk = await Ec2Steps.AttachedTrunkAsync(ec2, seed.Instances[1].Id, deviceIndex: 1);
        var branch = await Ec2Steps.BranchAsync(ec2);
        await ec2.AssociateTrunkInterfaceAsync(new AssociateTrunkInterfaceRequest { BranchInterfaceId = branch, TrunkInterfaceId = trunk, VlanId = 3 });

        // node-1 is the fabric's own node (its namespace); node-2 is tagged; node-3 is not, so it exists in EC2 only.
        var plan = FabricPlan.Of(sandbox.Admin.Snapshot(), seed.Instances[0].Id);
        Assert.Equal([(null, "ens5", false), ("node-2", "ens5", false), ("node-2", "ens6", true)],
            plan.NodeNics.Select(n => (n.Netns, n.NodeName, n.IsTrunk)));
        Assert.Equal(plan.NodeNics.Count, plan.NodeNics.Select(n => n.RouterName).Distinct(StringComparer.Ordinal).Count());
        Assert.Equal((3, plan.NodeNics[2].RouterName), (Assert.Single(plan.Branches).VlanId, plan.Branches[0].TrunkRouterName));

        sandbox.Admin.TerminateInstance(seed.Instances[1].Id);
        var after = FabricPlan.Of(sandbox.Admin.Snapshot(), seed.Instances[0].Id);
        Assert.Equal([(string?)null], after.NodeNics.Select(n => n.Netns));
        Assert.Empty(after.Branches);
    }

    [Fact]
    public async Task Ruleset_loads_into_nftables_and_replaces_itself()
    {
        await using var sandbox = await TestSandbox.StartAsync(o => o.Seed = DemoSeed());
        var ruleset = FabricPlan.Of(sandbox.Admin.Snapshot(), Node).Ruleset;
        var ns = "fabric-" + Guid.NewGuid().ToString("N")[..8];
        Run("ip", $"netns add {ns}");
        try
        {
            Run("ip", $"netns exec {ns} nft -f -", ruleset);
            Run("ip", $"netns exec {ns} nft -f -", ruleset); // a second load replaces, it does not fail or duplicate
            var listed = Run("ip", $"netns exec {ns} nft list table inet {SecurityGroupRuleset.Table}");
            Assert.Contains("tcp dport 5432", listed, StringComparison.Ordinal);
            Assert.Single(listed.Split('\n'), l => l.Contains("hook forward", StringComparison.Ordinal));
        }
        finally
        {
            Run("ip", $"netns del {ns}");
        }
    }

    [Theory]
    [InlineData("sg-0de0de0de0de09999", 5432, "not seeded")]
    [InlineData(AccessDb, null, "ports are required")]
    public void Bad_ingress_rules_refuse_the_seed(string source, int? port, string message)
    {
        var seed = DemoSeed();
        seed.SecurityGroups[2].Ingress = [new IngressRuleSeed { Protocol = "tcp", FromPort = port, ToPort = port, SourceGroupIds = [source] }];
        var error = Assert.Throws<ArgumentException>(() => SandboxHost.StartAsync(new() { Seed = seed }).GetAwaiter().GetResult());
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    private static string Run(string file, string args, string? input = null)
    {
        var start = new ProcessStartInfo(file, args) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(start)!;
        p.StandardInput.Write(input ?? "");
        p.StandardInput.Close();
        var output = p.StandardOutput.ReadToEnd();
        var error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{file} {args}: exit {p.ExitCode}: {error}");
        return output;
    }
}
