using System.Text.Json.Nodes;
using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.Runtime;
using BranchEni.Sandbox.Seed;

namespace BranchEni.Controller.Tests.Sandbox;

/// <summary>
/// match-security-groups against the sandbox with the real controller (leader, membership every second): the
/// companion's peers follow EC2 (the real SDK against the emulated EC2 API), and its life follows the annotation.
/// </summary>
public sealed class CompanionTests(ControllerWorld world) : IClassFixture<ControllerWorld>
{
    internal const string Db = "sg-0a1b2c3d4e5f62003";
    internal const string Green = "sg-0a1b2c3d4e5f62002";

    [Fact]
    public async Task The_companion_allows_the_groups_pods_everywhere_and_its_instances_by_address_and_follows_membership()
    {
        using var ec2 = Ec2(world);
        var instance = await CreateEniAsync(ec2, Db);
        // One of our branch ENIs in the same group: a pod, matched by its labels, never by address.
        var branch = await CreateEniAsync(ec2, Db, branch: true);
        var original = await ApplyAsync(world, "db", Db);

        var companion = await WaitForCompanionAsync(world, "db", c => Cidrs(c).SequenceEqual([instance.Ip + "/32"]), "the instance's /32 only");
        Assert.Equal("branch-eni", companion["metadata"]!["labels"]!["app.kubernetes.io/managed-by"]!.GetValue<string>());
        var owner = companion["metadata"]!["ownerReferences"]!.AsArray().Single()!;
        Assert.Equal(("networking.k8s.io/v1", "NetworkPolicy", "db", original["metadata"]!["uid"]!.GetValue<string>(), true, true),
            (owner["apiVersion"]!.GetValue<string>(), owner["kind"]!.GetValue<string>(), owner["name"]!.GetValue<string>(), owner["uid"]!.GetValue<string>(),
             owner["controller"]!.GetValue<bool>(), owner["blockOwnerDeletion"]!.GetValue<bool>()));
        var spec = companion["spec"]!;
        Assert.True(JsonNode.DeepEquals(original["spec"]!["podSelector"], spec["podSelector"]));
        Assert.Equal("[\"Ingress\"]", spec["policyTypes"]!.ToJsonString());
        var rule = spec["ingress"]!.AsArray().Single()!;
        Assert.Equal("""[{"port":5432,"protocol":"TCP"}]""", rule["ports"]!.ToJsonString());
        var pods = rule["from"]![0]!;
        Assert.Equal("""{"matchLabels":{"sg.aws.tigera.io/GROUP":""}}""".Replace("GROUP", Db, StringComparison.Ordinal), pods["podSelector"]!.ToJsonString());
        Assert.Equal("{}", pods["namespaceSelector"]!.ToJsonString());
        Assert.DoesNotContain(branch.Ip + "/32", Cidrs(companion));

        // Joins: a new interface in the group, and one moved into it.
        var joined = await CreateEniAsync(ec2, Green);
        await ec2.ModifyNetworkInterfaceAttributeAsync(new ModifyNetworkInterfaceAttributeRequest { NetworkInterfaceId = joined.Id, Groups = [Green, Db] });
        await WaitForCompanionAsync(world, "db", c => Cidrs(c).Order().SequenceEqual(new[] { instance.Ip + "/32", joined.Ip + "/32" }.Order()), "both /32s");

        // An unchanged membership is not written again at every poll.
        var version = (await GetAsync(world, "db-sg"))!["metadata"]!["resourceVersion"]!.GetValue<string>();
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal(version, (await GetAsync(world, "db-sg"))!["metadata"]!["resourceVersion"]!.GetValue<string>());

        // Leaves: one deleted, one moved out of the group.
        await ec2.DeleteNetworkInterfaceAsync(new DeleteNetworkInterfaceRequest { NetworkInterfaceId = instance.Id });
        await WaitForCompanionAsync(world, "db", c => Cidrs(c).SequenceEqual([joined.Ip + "/32"]), "only the joined /32");
        await ec2.ModifyNetworkInterfaceAttributeAsync(new ModifyNetworkInterfaceAttributeRequest { NetworkInterfaceId = joined.Id, Groups = [Green] });
        await WaitForCompanionAsync(world, "db", c => !Cidrs(c).Any(), "no /32 (the pod peer stays)");

        await ec2.DeleteNetworkInterfaceAsync(new DeleteNetworkInterfaceRequest { NetworkInterfaceId = joined.Id });
        await ec2.DeleteNetworkInterfaceAsync(new DeleteNetworkInterfaceRequest { NetworkInterfaceId = branch.Id });
        await Kubectl.RunAsync(world, "admin", null, "delete", "networkpolicy", "-n", "app", "db");
    }

    [Fact]
    public async Task Removing_the_annotation_or_the_policy_deletes_the_companion()
    {
        await ApplyAsync(world, "cache", Green);
        await WaitForCompanionAsync(world, "cache", _ => true, "the companion");

        await Kubectl.RunAsync(world, "admin", null, "annotate", "networkpolicy", "-n", "app", "cache", "rules.networkpolicy.tigera.io/match-security-groups-");
        await ControllerWorld.Eventually(async () => await GetAsync(world, "cache-sg") is null, "the companion to go with the annotation");

        await Kubectl.RunAsync(world, "admin", null, "annotate", "networkpolicy", "-n", "app", "cache", "rules.networkpolicy.tigera.io/match-security-groups=true");
        await WaitForCompanionAsync(world, "cache", _ => true, "the companion to come back");

        // Nothing collects garbage in the sandbox: the controller itself deletes the companion of a deleted policy.
        await Kubectl.RunAsync(world, "admin", null, "delete", "networkpolicy", "-n", "app", "cache");
        await ControllerWorld.Eventually(async () => await GetAsync(world, "cache-sg") is null, "the companion to go with its policy");

        // A companion deleted by hand comes back at once (the watch sees it go).
        await ApplyAsync(world, "queue", Green);
        await WaitForCompanionAsync(world, "queue", _ => true, "the companion");
        await Kubectl.RunAsync(world, "admin", null, "delete", "networkpolicy", "-n", "app", "queue-sg");
        await WaitForCompanionAsync(world, "queue", _ => true, "the companion to be put back");
        await Kubectl.RunAsync(world, "admin", null, "delete", "networkpolicy", "-n", "app", "queue");
    }

    [Fact]
    public async Task A_policy_of_that_name_we_do_not_manage_is_not_overwritten_and_the_original_gets_a_warning()
    {
        var theirs = """{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "api-sg", "namespace": "app"}, "spec": {"podSelector": {"matchLabels": {"app": "theirs"}}}}""";
        await Kubectl.RunAsync(world, "admin", theirs, "apply", "-f", "-");
        var before = (await GetAsync(world, "api-sg"))!;
        await ApplyAsync(world, "api", Green);

        await ControllerWorld.Eventually(async () =>
        {
            var events = JsonNode.Parse((await Kubectl.RunAsync(world, "admin", null, "get", "events", "-n", "app", "-o", "json")).Stdout)!["items"]!.AsArray();
            return events.Any(e => e!["involvedObject"]!["name"]!.GetValue<string>() == "api" && e["reason"]!.GetValue<string>() == "CompanionNameTaken"
                && e["type"]!.GetValue<string>() == "Warning");
        }, "a CompanionNameTaken event on the original");
        await Task.Delay(TimeSpan.FromSeconds(2));
        var after = (await GetAsync(world, "api-sg"))!;
        Assert.Equal(before["metadata"]!["resourceVersion"]!.GetValue<string>(), after["metadata"]!["resourceVersion"]!.GetValue<string>());
        Assert.Null(after["metadata"]!["labels"]);

        // Deleting the original leaves their policy alone too.
        await Kubectl.RunAsync(world, "admin", null, "delete", "networkpolicy", "-n", "app", "api");
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.NotNull(await GetAsync(world, "api-sg"));
    }

    [Fact]
    public async Task A_name_too_long_for_its_companion_gets_a_warning_and_no_companion()
    {
        var name = new string('n', 251);
        await ApplyAsync(world, name, Green);
        await ControllerWorld.Eventually(async () =>
        {
            var events = JsonNode.Parse((await Kubectl.RunAsync(world, "admin", null, "get", "events", "-n", "app", "-o", "json")).Stdout)!["items"]!.AsArray();
            return events.Any(e => e!["involvedObject"]!["name"]!.GetValue<string>() == name && e["reason"]!.GetValue<string>() == "CompanionNameTooLong");
        }, "a CompanionNameTooLong event");
        var list = JsonNode.Parse((await Kubectl.RunAsync(world, "admin", null, "get", "networkpolicy", "-n", "app", "-o", "json")).Stdout)!["items"]!.AsArray();
        Assert.DoesNotContain(list, p => p!["metadata"]!["name"]!.GetValue<string>().StartsWith(name + "-", StringComparison.Ordinal));
        await Kubectl.RunAsync(world, "admin", null, "delete", "networkpolicy", "-n", "app", name);
    }

    internal static AmazonEC2Client Ec2(ControllerWorld world) => new(new BasicAWSCredentials("AKIASANDBOXEXAMPLE", "sandbox-secret"),
        new AmazonEC2Config { ServiceURL = world.Sandbox.Endpoints.Ec2.ToString(), AuthenticationRegion = "us-west-2" });

    internal static async Task<(string Id, string Ip)> CreateEniAsync(AmazonEC2Client ec2, string group, bool branch = false)
    {
        var request = new CreateNetworkInterfaceRequest { SubnetId = DefaultSeed.NodeSubnetId, Groups = [group] };
        if (branch)
        {
            request.InterfaceType = NetworkInterfaceCreationType.Branch;
            request.TagSpecifications = [new TagSpecification { ResourceType = ResourceType.NetworkInterface, Tags = [new Tag("eks:eni:owner", "branch-eni")] }];
        }

        var eni = (await ec2.CreateNetworkInterfaceAsync(request)).NetworkInterface;
        return (eni.NetworkInterfaceId, eni.PrivateIpAddress);
    }

    /// <summary>An annotated policy in namespace app: ingress on 5432 from the group's pods, and a rule the companion leaves out.</summary>
    internal static async Task<JsonNode> ApplyAsync(ControllerWorld world, string name, string group)
    {
        var policy = """
            {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
             "metadata": {"name": "NAME", "namespace": "app", "annotations": {"rules.networkpolicy.tigera.io/match-security-groups": "true"}},
             "spec": {"podSelector": {"matchLabels": {"app": "db"}}, "policyTypes": ["Ingress"],
                      "ingress": [{"from": [{"podSelector": {"matchLabels": {"sg.aws.tigera.io/GROUP": ""}}}], "ports": [{"protocol": "TCP", "port": 5432}]},
                                  {"from": [{"podSelector": {"matchLabels": {"app": "web"}}}]}]}}
            """.Replace("NAME", name, StringComparison.Ordinal).Replace("GROUP", group, StringComparison.Ordinal);
        await Kubectl.RunAsync(world, "admin", policy, "apply", "-f", "-");
        return (await GetAsync(world, name))!;
    }

    internal static async Task<JsonNode?> GetAsync(ControllerWorld world, string name)
    {
        var result = await Kubectl.RunAsync(world, "admin", null, mayFail: true, "get", "networkpolicy", "-n", "app", name, "-o", "json");
        return result.ExitCode == 0 ? JsonNode.Parse(result.Stdout) : null;
    }

    internal static async Task<JsonNode> WaitForCompanionAsync(ControllerWorld world, string original, Func<JsonNode, bool> condition, string what)
    {
        JsonNode? last = null;
        await ControllerWorld.Eventually(async () => (last = await GetAsync(world, original + "-sg")) is { } c && condition(c), $"companion {original}-sg: {what} (last: {last?["spec"]?.ToJsonString()})");
        return last!;
    }

    private static IEnumerable<string> Cidrs(JsonNode companion) =>
        companion["spec"]!["ingress"]![0]!["from"]!.AsArray().Select(p => p!["ipBlock"]?["cidr"]?.GetValue<string>()).OfType<string>();
}
