using System.Diagnostics;
using System.Text.Json;
using BranchEni.Agent.Tests.Sandbox;
using BranchEni.Contracts;

namespace BranchEni.Agent.Tests.EndToEnd;

/// <summary>The whole agent in process against the sandbox: EC2 and IMDS through AWSSDK/HTTP, the API through
/// KubernetesClient (agent) and plain HTTP (the test, acting as the user).</summary>
public sealed class AgentLifecycleTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private const string GreenSg = "sg-0a1b2c3d4e5f62002";

    [Fact]
    public async Task Full_lifecycle_of_one_pod_from_policy_to_release()
    {
        var ns = "be-agent-" + Guid.NewGuid().ToString("N")[..8];
        Ip($"netns add {ns}");
        var cni = Directory.CreateTempSubdirectory("branch-eni-host-cni-").FullName;
        try
        {
            await using var world = await AgentWorld.CreateAsync(configure: o => o with
            {
                NetworkNamespace = $"/run/netns/{ns}",
                TrunkLinkWait = TimeSpan.FromSeconds(20),
                CniBinary = typeof(AgentLifecycleTests).Assembly.Location,
                CniBinDir = Path.Combine(cni, "bin"),
                CniConfDir = Path.Combine(cni, "net.d"),
            });
            var conflist = Path.Combine(cni, "net.d", "05-branch-eni.conflist");
            await world.Kube.CreateSgpAsync("app", "green", $$$"""{"podSelector": {"matchLabels": {"role": "green"}}, "securityGroups": {"groupIds": ["{{{GreenSg}}}"]}}""");
            var agent = world.StartAgent();

            // The trunk appears in EC2; the test plays the hot-plugged device by giving a link its MAC.
            var trunkEni = await AgentWorld.EventuallyAsync(() => Task.FromResult(world.Sandbox.Host.Admin.Snapshot().NetworkInterfaces.FirstOrDefault(e => e.InterfaceType == "trunk" && e.InstanceId is not null)), Wait, "trunk attached");
            await Task.Delay(300);
            Assert.False(File.Exists(conflist), "the conflist (kubelet's 'network ready') must wait for the agent to be ready");
            Assert.NotNull(agent.NotReadyReason);
            Ip($"-n {ns} link add eth1 address {trunkEni.MacAddress} type veth peer name p1");
            await AgentWorld.EventuallyAsync(() => Task.FromResult(agent.NotReadyReason is null), Wait, "agent ready");
            await AgentWorld.EventuallyAsync(() => Task.FromResult(File.Exists(conflist)), Wait, "conflist installed once ready");
            Assert.True(File.Exists(Path.Combine(cni, "bin", "branch-eni")));

            var trunkRecord = agent.Records.ReadTrunk()!;
            Assert.Equal((trunkEni.Id, trunkEni.MacAddress, "eth1"), (trunkRecord.EniId, trunkRecord.MacAddress, trunkRecord.LinkName));
            var node = await AgentWorld.EventuallyAsync(async () => await world.Kube.GetNodeAsync(AgentWorld.NodeName) is var n
                && n["metadata"]?["labels"]?["vpc.amazonaws.com/has-trunk-attached"] is not null ? n : null, Wait, "node labelled");
            Assert.Equal("9", node["status"]!["capacity"]!["vpc.amazonaws.com/pod-eni"]!.GetValue<string>());
            Assert.Equal("true", node["metadata"]!["labels"]!["vpc.amazonaws.com/has-trunk-attached"]!.GetValue<string>());

            // Capacity removed by someone else (a kubelet status update would do this) is restored.
            await world.Kube.PatchNodeStatusAsync(AgentWorld.NodeName, """{"status": {"capacity": {"vpc.amazonaws.com/pod-eni": null}}}""");
            await AgentWorld.EventuallyAsync(async () => (await world.Kube.GetNodeAsync(AgentWorld.NodeName))["status"]?["capacity"]?["vpc.amazonaws.com/pod-eni"]?.GetValue<string>() == "9", Wait, "capacity restored");

            var green = await world.Kube.CreatePodAsync("app", "green", AgentWorld.NodeName, "role=green");
            await world.Kube.CreatePodAsync("app", "red", AgentWorld.NodeName, "role=red");
            var uid = green["metadata"]!["uid"]!.GetValue<string>();
            var annotation = await AgentWorld.EventuallyAsync(() => world.Kube.PodEniAnnotationAsync("app", "green"), Wait, "green annotated");

            var branch = BranchEniParser.ParseAnnotation(annotation);
            var snapshot = world.Sandbox.Host.Admin.Snapshot();
            var eni = snapshot.NetworkInterfaces.Single(e => e.Id == branch.EniId);
            Assert.Equal([GreenSg], eni.GroupIds);
            Assert.Equal(eni.MacAddress, branch.MacText);
            Assert.Equal(eni.PrivateIp, branch.PrivateIp.ToString());
            Assert.Equal(1, branch.VlanId);
            Assert.Equal("192.168.0.0/19", branch.Subnet.ToString());
            Assert.Equal(snapshot.Associations.Single(a => a.BranchInterfaceId == eni.Id).Id, branch.AssociationId);

            var record = agent.Records.ReadPod(uid)!;
            Assert.Equal(("app", "green", uid, branch.EniId), (record.PodNamespace, record.PodName, record.PodUid, record.EniId));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(agent.Records.PodPath(uid)));
            // The event follows the annotation.
            var reasons = await AgentWorld.EventuallyAsync(async () => (await world.Kube.EventsAboutAsync("app", "green")).Select(e => e.Reason).ToList() is var r
                && r.Contains("ResourceAllocated") ? r : null, Wait, "ResourceAllocated event");
            Assert.Contains("SecurityGroupRequested", reasons);
            Assert.Null(await world.Kube.PodEniAnnotationAsync("app", "red"));
            Assert.Single(world.Sandbox.Host.Admin.Snapshot().NetworkInterfaces, e => e.Description == "aws-k8s-branch-eni");

            await world.Kube.DeletePodAsync("app", "green");
            await AgentWorld.EventuallyAsync(() => Task.FromResult(!world.Sandbox.Host.Admin.Snapshot().NetworkInterfaces.Any(e => e.Id == branch.EniId)), Wait, "branch deleted after the cooldown");
            Assert.Empty(world.Sandbox.Host.Admin.Snapshot().Associations);
            // The agent drops the record and the VLAN once DeleteNetworkInterface has answered, which the snapshot can
            // show a moment earlier (this failed now and then under load).
            await AgentWorld.EventuallyAsync(() => Task.FromResult(agent.Records.ReadPod(uid) is null && agent.Table!.Vlans.Free == 9), Wait, "record and VLAN released");
            Assert.Contains("branch_eni_free_vlans 9\n", agent.Metrics.Render(), StringComparison.Ordinal);
        }
        finally
        {
            Ip($"netns del {ns}");
            Directory.Delete(cni, recursive: true);
        }
    }

    [Fact]
    public async Task At_the_branch_limit_a_pod_waits_with_an_event_and_gets_the_first_vlan_released()
    {
        await using var world = await AgentWorld.CreateAsync();
        await world.Kube.CreateSgpAsync("app", "all", $$$"""{"podSelector": {}, "securityGroups": {"groupIds": ["{{{GreenSg}}}"]}}""");
        var agent = world.StartAgent();
        for (var i = 0; i < 9; i++)
        {
            await world.Kube.CreatePodAsync("app", $"p{i}", AgentWorld.NodeName);
        }

        var first = await AgentWorld.EventuallyAsync(async () => await world.Kube.AnnotationsAsync("app") is { Count: 9 } all ? all : null, Wait, "m5.large's 9 branches in use");
        await world.Kube.CreatePodAsync("app", "tenth", AgentWorld.NodeName);
        await AgentWorld.EventuallyAsync(async () => (await world.Kube.EventsAboutAsync("app", "tenth")).Any(e => e.Reason == "BranchAllocationFailed" && e.Message.Contains("branch ENI limit (9)", StringComparison.Ordinal)), Wait, "limit event");
        Assert.Null(await world.Kube.PodEniAnnotationAsync("app", "tenth"));

        var freed = BranchEniParser.ParseAnnotation(first["p4"]).VlanId;
        await world.Kube.DeletePodAsync("app", "p4");
        var tenth = BranchEniParser.ParseAnnotation(await AgentWorld.EventuallyAsync(() => world.Kube.PodEniAnnotationAsync("app", "tenth"), Wait, "tenth annotated after a release"));
        Assert.Equal(freed, tenth.VlanId);
        Assert.Equal(9, world.Sandbox.Host.Admin.Snapshot().Associations.Count);
    }

    [Fact]
    public async Task A_non_trunking_instance_type_gets_capacity_zero_an_event_and_a_clear_log_line()
    {
        await using var world = await AgentWorld.CreateAsync(sandbox: o => o.Seed.Instances[0].InstanceType = "t3.medium");
        await world.Kube.CreateSgpAsync("app", "all", $$$"""{"podSelector": {}, "securityGroups": {"groupIds": ["{{{GreenSg}}}"]}}""");
        await world.Kube.CreatePodAsync("app", "p", AgentWorld.NodeName);
        var agent = world.StartAgent();
        await AgentWorld.EventuallyAsync(() => Task.FromResult(agent.NotReadyReason is null), Wait, "agent ready");
        var capacity = await AgentWorld.EventuallyAsync(async () =>
            (await world.Kube.GetNodeAsync(AgentWorld.NodeName))["status"]?["capacity"]?["vpc.amazonaws.com/pod-eni"]?.GetValue<string>(), Wait, "capacity");
        Assert.Equal("0", capacity);
        Assert.Contains(await world.Kube.EventsAboutAsync("default", AgentWorld.NodeName), e => e.Reason == "BranchEniUnsupported" && e.Message.Contains("t3.medium", StringComparison.Ordinal));
        Assert.Contains(world.LogSink.Lines, l => l.Contains("instance type t3.medium does not support ENI trunking", StringComparison.Ordinal));
        Assert.DoesNotContain(world.Sandbox.Host.Admin.Snapshot().NetworkInterfaces, e => e.InterfaceType == "trunk");
        await Task.Delay(300);
        Assert.Null(await world.Kube.PodEniAnnotationAsync("app", "p"));
    }

    [Fact]
    public async Task Without_branch_enis_the_agent_still_records_which_pods_the_cni_may_delegate()
    {
        await using var world = await AgentWorld.CreateAsync(sandbox: o => o.Seed.Instances[0].InstanceType = "t3.medium");
        await world.Kube.CreateSgpAsync("app", "db", $$$"""{"podSelector": {"matchLabels": {"role": "db"}}, "securityGroups": {"groupIds": ["{{{GreenSg}}}"]}}""");
        var selected = await world.Kube.CreatePodAsync("app", "selected", AgentWorld.NodeName, "role=db");
        var plain = await world.Kube.CreatePodAsync("app", "plain", AgentWorld.NodeName, "role=web");
        var agent = world.StartAgent();

        var branch = await AgentWorld.EventuallyAsync(() => Task.FromResult(agent.Records.ReadDecision(Uid(selected))), Wait, "decision for the selected pod");
        var none = await AgentWorld.EventuallyAsync(() => Task.FromResult(agent.Records.ReadDecision(Uid(plain))), Wait, "decision for the plain pod");
        Assert.True(branch.Branch);
        Assert.Contains("SecurityGroupPolicy db selects it", branch.Reason, StringComparison.Ordinal);
        Assert.Contains("t3.medium", branch.Reason, StringComparison.Ordinal);
        Assert.False(none.Branch);

        await world.Kube.DeletePodAsync("app", "plain");
        await AgentWorld.EventuallyAsync(() => Task.FromResult(agent.Records.ReadDecision(Uid(plain)) is null), Wait, "decision of the deleted pod removed");
    }

    [Fact]
    public async Task With_pod_eni_disabled_every_pod_is_decided_and_a_selected_one_is_never_delegated()
    {
        await using var world = await AgentWorld.CreateAsync(configure: o => o with { EnablePodEni = false });
        await world.Kube.CreateSgpAsync("app", "db", $$$"""{"podSelector": {"matchLabels": {"role": "db"}}, "securityGroups": {"groupIds": ["{{{GreenSg}}}"]}}""");
        var plain = await world.Kube.CreatePodAsync("app", "plain", AgentWorld.NodeName, "role=web");
        var agent = world.StartAgent();
        Assert.False((await AgentWorld.EventuallyAsync(() => Task.FromResult(agent.Records.ReadDecision(Uid(plain))), Wait, "decision for the plain pod")).Branch);

        // A policy created later selects a pod created later: recorded as needing a branch this node cannot give.
        var selected = await world.Kube.CreatePodAsync("app", "selected", AgentWorld.NodeName, "role=db");
        var branch = await AgentWorld.EventuallyAsync(() => Task.FromResult(agent.Records.ReadDecision(Uid(selected))), Wait, "decision for the selected pod");
        Assert.True(branch.Branch);
        Assert.Contains("ENABLE_POD_ENI", branch.Reason, StringComparison.Ordinal);
    }

    private static string Uid(System.Text.Json.Nodes.JsonNode pod) => pod["metadata"]!["uid"]!.GetValue<string>();

    internal static void Ip(string args)
    {
        using var p = Process.Start(new ProcessStartInfo("ip", args) { RedirectStandardError = true })!;
        var error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"ip {args}: {error}");
        }
    }

    internal static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement;
}
