using BranchEni.Agent.Tests.Sandbox;
using BranchEni.Contracts;
using BranchEni.Sandbox.Hosting;

namespace BranchEni.Agent.Tests.EndToEnd;

/// <summary>Which pods get which security groups, who is trusted, and what bad input does, through the whole agent.</summary>
public sealed class AgentPolicyTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private const string GreenSg = "sg-0a1b2c3d4e5f62002";
    private const string RdsSg = "sg-0a1b2c3d4e5f62003";

    [Fact]
    public async Task Service_account_and_pod_selectors_union_of_several_policies_and_none()
    {
        await using var world = await AgentWorld.CreateAsync();
        await world.Kube.CreateServiceAccountAsync("app", "db-sa", "team=db");
        await world.Kube.CreateSgpAsync("app", "both", $$$"""{"podSelector": {"matchLabels": {"app": "api"}}, "serviceAccountSelector": {"matchLabels": {"team": "db"}}, "securityGroups": {"groupIds": ["{{{GreenSg}}}"]}}""");
        await world.Kube.CreateSgpAsync("app", "sa", $$$"""{"serviceAccountSelector": {"matchExpressions": [{"key": "team", "operator": "In", "values": ["db"]}]}, "securityGroups": {"groupIds": ["{{{RdsSg}}}", "{{{GreenSg}}}"]}}""");
        await world.Kube.CreateSgpAsync("other", "everything", $$$"""{"podSelector": {}, "securityGroups": {"groupIds": ["{{{RdsSg}}}"]}}""");
        var agent = world.StartAgent();
        await AgentWorld.EventuallyAsync(() => Task.FromResult(agent.Publisher is not null && agent.NotReadyReason is "trunk link not found on the node yet" or null), Wait, "agent running");

        await world.Kube.CreatePodAsync("app", "api-db", AgentWorld.NodeName, "app=api", serviceAccount: "db-sa");
        await world.Kube.CreatePodAsync("app", "worker-db", AgentWorld.NodeName, "app=worker", serviceAccount: "db-sa");
        await world.Kube.CreatePodAsync("app", "api-plain", AgentWorld.NodeName, "app=api");
        await world.Kube.CreatePodAsync("app", "asks", AgentWorld.NodeName, "app=x", requestPodEni: true);

        var both = BranchEniParser.ParseAnnotation(await AgentWorld.EventuallyAsync(() => world.Kube.PodEniAnnotationAsync("app", "api-db"), Wait, "api-db annotated"));
        var saOnly = BranchEniParser.ParseAnnotation(await AgentWorld.EventuallyAsync(() => world.Kube.PodEniAnnotationAsync("app", "worker-db"), Wait, "worker-db annotated"));
        var enis = world.Sandbox.Host.Admin.Snapshot().NetworkInterfaces;
        Assert.Equal([GreenSg, RdsSg], enis.Single(e => e.Id == both.EniId).GroupIds);
        Assert.Equal([RdsSg, GreenSg], enis.Single(e => e.Id == saOnly.EniId).GroupIds);

        await AgentWorld.EventuallyAsync(async () => (await world.Kube.EventsAboutAsync("app", "asks")).Any(e => e.Reason == "BranchAllocationFailed"), Wait, "event for the pod no policy selects");
        Assert.Null(await world.Kube.PodEniAnnotationAsync("app", "api-plain"));
        Assert.Null(await world.Kube.PodEniAnnotationAsync("app", "asks"));
        Assert.Equal(2, enis.Count(e => e.Description == "aws-k8s-branch-eni"));
    }

    /// <summary>Issue 17's race seen from the agent: kubelet may run ADD before EC2 has given the pod its branch ENI, so
    /// the agent writes a decision record for every pod of its node as soon as it sees it. A selected pod whose branch
    /// EC2 cannot create yet is recorded as needing one (the CNI waits, then error 11); a pod nothing selects as delegated.</summary>
    [Fact]
    public async Task Every_pod_of_the_node_is_decided_before_its_branch_exists()
    {
        await using var world = await AgentWorld.CreateAsync();
        await world.Kube.CreateServiceAccountAsync("app", "db-sa", "team=db");
        await world.Kube.CreateSgpAsync("app", "by-pod", $$$"""{"podSelector": {"matchLabels": {"role": "green"}}, "securityGroups": {"groupIds": ["{{{GreenSg}}}"]}}""");
        await world.Kube.CreateSgpAsync("app", "by-account", $$$"""{"serviceAccountSelector": {"matchLabels": {"team": "db"}}, "securityGroups": {"groupIds": ["{{{RdsSg}}}"]}}""");
        var agent = world.StartAgent();
        await AgentWorld.EventuallyAsync(() => Task.FromResult(agent.Publisher is not null), Wait, "trunk ready");
        world.Sandbox.Host.Admin.Faults = new FaultSettings
        {
            Actions = { ["CreateNetworkInterface"] = new ActionFault { ErrorRate = 1, ErrorCode = "InsufficientFreeAddressesInSubnet", HttpStatus = 400, Message = "no free addresses" } },
        };

        var byPod = await world.Kube.CreatePodAsync("app", "green", AgentWorld.NodeName, "role=green");
        var byAccount = await world.Kube.CreatePodAsync("app", "worker", AgentWorld.NodeName, "role=worker", serviceAccount: "db-sa");
        var plain = await world.Kube.CreatePodAsync("app", "red", AgentWorld.NodeName, "role=red");

        PodDecision Decided(System.Text.Json.Nodes.JsonNode pod) => agent.Records.ReadDecision(pod["metadata"]!["uid"]!.GetValue<string>())!;
        await AgentWorld.EventuallyAsync(() => Task.FromResult(Decided(byPod) is not null && Decided(byAccount) is not null && Decided(plain) is not null), Wait, "three decisions");
        Assert.Equal((true, "SecurityGroupPolicy by-pod selects it"), (Decided(byPod).Branch!.Value, Decided(byPod).Reason));
        Assert.Equal((true, "SecurityGroupPolicy by-account selects it"), (Decided(byAccount).Branch!.Value, Decided(byAccount).Reason));
        Assert.False(Decided(plain).Branch);
        Assert.Null(await world.Kube.PodEniAnnotationAsync("app", "green"));

        // EC2 recovers: the branch arrives (record, annotation); the decision stays until the pod is deleted.
        world.Sandbox.Host.Admin.Faults = new FaultSettings();
        await AgentWorld.EventuallyAsync(() => world.Kube.PodEniAnnotationAsync("app", "green"), TimeSpan.FromSeconds(60), "green annotated");
        Assert.NotNull(agent.Records.ReadPod(byPod["metadata"]!["uid"]!.GetValue<string>()));
        await world.Kube.DeletePodAsync("app", "red");
        await AgentWorld.EventuallyAsync(() => Task.FromResult(Decided(plain) is null), Wait, "decision of the deleted pod removed");
    }

    [Fact]
    public async Task An_annotation_written_by_someone_else_is_replaced_by_the_agents_record()
    {
        await using var world = await AgentWorld.CreateAsync();
        await world.Kube.CreateSgpAsync("app", "green", $$$"""{"podSelector": {"matchLabels": {"role": "green"}}, "securityGroups": {"groupIds": ["{{{GreenSg}}}"]}}""");
        var agent = world.StartAgent();
        const string forged = """[{"eniId":"eni-0123456789abcdef0","ifAddress":"0e:00:00:00:00:01","privateIp":"192.168.1.1","ipv6Addr":"","vlanId":7,"subnetCidr":"192.168.0.0/19","subnetV6Cidr":"","associationID":"trunk-assoc-forged"}]""";
        var pod = await world.Kube.CreatePodAsync("app", "green", AgentWorld.NodeName, "role=green", annotation: forged);
        var uid = pod["metadata"]!["uid"]!.GetValue<string>();

        var annotation = await AgentWorld.EventuallyAsync(async () => await world.Kube.PodEniAnnotationAsync("app", "green") is { } a && a != forged ? a : null, Wait, "annotation replaced");
        var record = agent.Records.ReadPod(uid)!;
        var parsed = BranchEniParser.ParseAnnotation(annotation);
        Assert.Equal(record.EniId, parsed.EniId);
        Assert.NotEqual("eni-0123456789abcdef0", record.EniId);
        Assert.Equal(1, record.VlanId);

        // Forged again later: the agent restores the record's value, and the record itself never moves.
        var reForge = new System.Text.Json.Nodes.JsonObject { ["metadata"] = new System.Text.Json.Nodes.JsonObject { ["annotations"] = new System.Text.Json.Nodes.JsonObject { ["vpc.amazonaws.com/pod-eni"] = forged } } };
        await world.Kube.PatchPodAsync("app", "green", reForge.ToJsonString());
        await AgentWorld.EventuallyAsync(async () => await world.Kube.PodEniAnnotationAsync("app", "green") == annotation, Wait, "annotation restored");
        Assert.Equal(record, agent.Records.ReadPod(uid));
        Assert.Single(world.Sandbox.Host.Admin.Snapshot().NetworkInterfaces, e => e.Description == "aws-k8s-branch-eni");
    }

    [Fact]
    public async Task Bad_policies_and_bad_ec2_answers_give_events_and_logs_and_the_agent_carries_on()
    {
        await using var world = await AgentWorld.CreateAsync();
        await world.Kube.CreateSgpAsync("app", "bad", """{"podSelector": {"matchLabels": {"role": "green"}}, "securityGroups": {"groupIds": ["web-servers"]}}""");
        await world.Kube.CreateSgpAsync("app", "green", $$$"""{"podSelector": {"matchLabels": {"role": "green"}}, "securityGroups": {"groupIds": ["{{{GreenSg}}}"]}}""");
        var agent = world.StartAgent();
        await AgentWorld.EventuallyAsync(() => Task.FromResult(agent.Publisher is not null), Wait, "trunk ready");

        // From now on EC2 refuses every new ENI (the trunk exists already).
        world.Sandbox.Host.Admin.Faults = new FaultSettings
        {
            Actions = { ["CreateNetworkInterface"] = new ActionFault { ErrorRate = 1, ErrorCode = "InsufficientFreeAddressesInSubnet", HttpStatus = 400, Message = "no free addresses" } },
        };
        await world.Kube.CreatePodAsync("app", "green", AgentWorld.NodeName, "role=green");

        await AgentWorld.EventuallyAsync(async () => (await world.Kube.EventsAboutAsync("app", "green")).Any(e => e.Reason == "BranchAllocationFailed" && e.Message.Contains("no free addresses", StringComparison.Ordinal)), Wait, "allocation failure event");
        await AgentWorld.EventuallyAsync(async () => (await world.Kube.EventsAboutAsync("app", "bad")).Any(e => e.Reason == "InvalidSecurityGroupPolicy" && e.Message.Contains("web-servers", StringComparison.Ordinal)), Wait, "invalid policy event");
        Assert.Contains(world.LogSink.Lines, l => l.Contains("SecurityGroupPolicy app/bad is invalid", StringComparison.Ordinal));
        Assert.True(agent.Healthy);
        // Each failed attempt gives its VLAN back, though a retry may hold one for a moment (seen under load).
        await AgentWorld.EventuallyAsync(() => Task.FromResult(agent.Table!.Vlans.Free == 9), Wait, "the failed attempt's VLAN given back");
        Assert.Null(await world.Kube.PodEniAnnotationAsync("app", "green"));

        // EC2 recovers: the same pod is provisioned on the next retry, with the valid policy's groups only.
        world.Sandbox.Host.Admin.Faults = new FaultSettings();
        var annotation = await AgentWorld.EventuallyAsync(() => world.Kube.PodEniAnnotationAsync("app", "green"), TimeSpan.FromSeconds(60), "green annotated after recovery");
        var eni = world.Sandbox.Host.Admin.Snapshot().NetworkInterfaces.Single(e => e.Id == BranchEniParser.ParseAnnotation(annotation).EniId);
        Assert.Equal([GreenSg], eni.GroupIds);
        Assert.True(agent.Healthy);
    }
}
