using System.Text.Json.Nodes;
using BranchEni.Agent.Branches;
using BranchEni.Agent.Tests.Sandbox;
using BranchEni.Contracts;
using BranchEni.Policy;

namespace BranchEni.Agent.Tests.EndToEnd;

/// <summary>Issue 19 through the whole agent against the sandbox: Calico's aws.tigera.io/security-groups annotation,
/// the sg.aws.tigera.io labels and the record's metadataAccess.</summary>
public sealed class AgentSgAnnotationTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private const string GreenSg = "sg-0a1b2c3d4e5f62002";
    private const string RdsSg = "sg-0a1b2c3d4e5f62003";
    private const string MissingSg = "sg-0fffffffffffffff0";

    private static Dictionary<string, string> Annotated(params string[] groups) =>
        new() { [TigeraNames.SecurityGroupsAnnotation] = "[" + string.Join(", ", groups.Select(g => $"\"{g}\"")) + "]" };

    private static string Uid(JsonNode pod) => pod["metadata"]!["uid"]!.GetValue<string>();

    private static async Task<string[]> SgLabelsAsync(AgentWorld world, string name)
    {
        var pod = await world.Kube.GetPodAsync("app", name);
        return [.. (pod["metadata"]!["labels"]?.AsObject() ?? []).Where(l => l.Key.StartsWith(TigeraNames.SecurityGroupLabelPrefix, StringComparison.Ordinal))
            .Select(l => $"{l.Key}={l.Value!.GetValue<string>()}").Order(StringComparer.Ordinal)];
    }

    private static Task<AgentWorld> EnabledAsync(int maxGroups = 5) =>
        AgentWorld.CreateAsync(configure: o => o with { SgAnnotation = SecurityGroupAnnotationSettings.Of(true, "app"), MaxSecurityGroupsPerEni = maxGroups });

    [Fact]
    public async Task An_annotated_pod_gets_a_branch_with_exactly_its_groups_labels_that_follow_the_branch_and_no_metadata_by_default()
    {
        await using var world = await EnabledAsync();
        await world.Kube.CreateSgpAsync("app", "green", $$$"""{"podSelector": {"matchLabels": {"role": "green"}}, "securityGroups": {"groupIds": ["{{{GreenSg}}}"]}}""");
        var agent = world.StartAgent();
        var web = Uid(await world.Kube.CreatePodAsync("app", "web", AgentWorld.NodeName, "role=web", annotations: Annotated(RdsSg, GreenSg, RdsSg)));
        var green = Uid(await world.Kube.CreatePodAsync("app", "green", AgentWorld.NodeName, "role=green"));

        var info = BranchEniParser.ParseAnnotation(await AgentWorld.EventuallyAsync(() => world.Kube.PodEniAnnotationAsync("app", "web"), Wait, "web annotated"));
        Assert.Equal([RdsSg, GreenSg], world.Sandbox.Host.Admin.Snapshot().NetworkInterfaces.Single(e => e.Id == info.EniId).GroupIds);
        await AgentWorld.EventuallyAsync(async () => (await SgLabelsAsync(world, "web")).Length == 2, Wait, "web's sg labels");
        Assert.Equal([$"sg.aws.tigera.io/{GreenSg}=", $"sg.aws.tigera.io/{RdsSg}="], await SgLabelsAsync(world, "web"));
        Assert.Contains(await world.Kube.EventsAboutAsync("app", "web"),
            e => e.Reason == "SecurityGroupRequested" && e.Message.Contains($"from annotation {TigeraNames.SecurityGroupsAnnotation}", StringComparison.Ordinal));
        Assert.Equal("Denied", agent.Records.ReadPod(web)!.MetadataAccess);
        Assert.Contains("its aws.tigera.io/security-groups annotation names", agent.Records.ReadDecision(web)!.Reason, StringComparison.Ordinal);

        // An SGP pod carries its groups' labels too, and keeps EKS's metadata access by default.
        await AgentWorld.EventuallyAsync(async () => (await SgLabelsAsync(world, "green")).Length == 1, Wait, "green's sg label");
        Assert.Equal("Allowed", agent.Records.ReadPod(green)!.MetadataAccess);

        // The pod finishes: its branch is released and the labels go with it (the pod object stays).
        await world.Kube.PatchPodStatusAsync("app", "web", """{"status": {"phase": "Succeeded"}}""");
        await AgentWorld.EventuallyAsync(() => Task.FromResult(world.Sandbox.Host.Admin.Snapshot().NetworkInterfaces.All(e => e.Id != info.EniId)), Wait, "branch deleted");
        await AgentWorld.EventuallyAsync(async () => (await SgLabelsAsync(world, "web")).Length == 0, Wait, "web's sg labels removed");
    }

    [Fact]
    public async Task After_a_restart_the_groups_come_from_ec2_and_the_labels_and_metadata_decision_stay()
    {
        await using var world = await AgentWorld.CreateAsync(configure: o => o with
        {
            SgAnnotation = SecurityGroupAnnotationSettings.Of(true, ""), DefaultMetadataAccess = MetadataAccess.Denied,
        });
        await world.Kube.CreateSgpAsync("app", "green", $$$"""{"podSelector": {"matchLabels": {"role": "green"}}, "securityGroups": {"groupIds": ["{{{GreenSg}}}"]}}""");
        var first = world.StartAgent();
        var green = Uid(await world.Kube.CreatePodAsync("app", "green", AgentWorld.NodeName, "role=green"));
        var allowed = Uid(await world.Kube.CreatePodAsync("app", "allowed", AgentWorld.NodeName, $"{TigeraNames.AllowMetadataAccessLabel}=true",
            annotations: Annotated(RdsSg)));
        await AgentWorld.EventuallyAsync(async () => (await SgLabelsAsync(world, "green")).Length == 1 && (await SgLabelsAsync(world, "allowed")).Length == 1, Wait, "labels");
        Assert.Equal("Denied", first.Records.ReadPod(green)!.MetadataAccess);
        Assert.Equal("Allowed", first.Records.ReadPod(allowed)!.MetadataAccess);

        // The label changes on the running pod: the record keeps what the sandbox was created with.
        await world.Kube.PatchPodAsync("app", "allowed", $$"""{"metadata": {"labels": {"{{TigeraNames.AllowMetadataAccessLabel}}": "false"}""" + "}}");
        await world.StopAgentAsync(first);
        Assert.Contains(world.Sandbox.Host.Admin.Snapshot().NetworkInterfaces, e => e.Description == "aws-k8s-branch-eni");
        var second = world.StartAgent();
        await AgentWorld.EventuallyAsync(() => Task.FromResult(second.Table?.Get(green) is { IsComplete: true }), Wait, "branch rebuilt");
        Assert.Equal([GreenSg], second.Table!.Get(green)!.SecurityGroups);
        Assert.Equal([RdsSg], second.Table.Get(allowed)!.SecurityGroups);
        await Task.Delay(500);
        Assert.Equal([$"sg.aws.tigera.io/{GreenSg}="], await SgLabelsAsync(world, "green"));
        Assert.Equal([$"sg.aws.tigera.io/{RdsSg}="], await SgLabelsAsync(world, "allowed"));
        Assert.Equal("Allowed", second.Records.ReadPod(allowed)!.MetadataAccess);
    }

    [Fact]
    public async Task A_stale_sg_label_is_removed_and_a_missing_one_restored()
    {
        await using var world = await EnabledAsync();
        world.StartAgent();
        await world.Kube.CreatePodAsync("app", "web", AgentWorld.NodeName, annotations: Annotated(GreenSg));
        await AgentWorld.EventuallyAsync(async () => (await SgLabelsAsync(world, "web")).Length == 1, Wait, "web's sg label");

        // The sandbox's admin context has no webhook in front of it here: this plays a forged label that got through.
        await world.Kube.PatchPodAsync("app", "web", $$"""{"metadata": {"labels": {"sg.aws.tigera.io/{{RdsSg}}": "", "sg.aws.tigera.io/{{GreenSg}}": null""" + "}}}");
        await AgentWorld.EventuallyAsync(async () => (await SgLabelsAsync(world, "web")) is [var only] && only == $"sg.aws.tigera.io/{GreenSg}=", Wait, "labels repaired");
    }

    [Fact]
    public async Task Bad_groups_give_a_warning_no_branch_and_a_cni_that_fails_closed()
    {
        await using var world = await EnabledAsync(maxGroups: 2);
        var agent = world.StartAgent();
        var missing = Uid(await world.Kube.CreatePodAsync("app", "missing", AgentWorld.NodeName, annotations: Annotated(GreenSg, MissingSg)));
        var many = Uid(await world.Kube.CreatePodAsync("app", "many", AgentWorld.NodeName, annotations: Annotated(GreenSg, RdsSg, "sg-0a1b2c3d4e5f62001")));

        await AgentWorld.EventuallyAsync(async () => (await world.Kube.EventsAboutAsync("app", "missing"))
            .Any(e => e.Reason == "InvalidSecurityGroups" && e.Message.Contains($"security group {MissingSg} does not exist", StringComparison.Ordinal)), Wait, "warning naming the missing group");
        await AgentWorld.EventuallyAsync(async () => (await world.Kube.EventsAboutAsync("app", "many"))
            .Any(e => e.Reason == "InvalidSecurityGroups" && e.Message.Contains("more than the 2 EC2 allows", StringComparison.Ordinal)), Wait, "warning about the quota");
        await AgentWorld.EventuallyAsync(() => Task.FromResult(agent.Records.ReadDecision(missing)?.Reason?.Contains(MissingSg, StringComparison.Ordinal) == true), Wait, "decision names the group");

        var decision = agent.Records.ReadDecision(missing)!;
        Assert.True(decision.Branch);
        Assert.True(agent.Records.ReadDecision(many)!.Branch);
        Assert.Null(agent.Records.ReadPodOrNull(missing));
        Assert.DoesNotContain(world.Sandbox.Host.Admin.Snapshot().NetworkInterfaces, e => e.Description == "aws-k8s-branch-eni");
        Assert.Null(await world.Kube.PodEniAnnotationAsync("app", "missing"));

        var cni = new FailClosedRaceTests.Cni(world);
        var refused = cni.Add("missing", missing);
        Assert.Equal(11, refused.Code);
        Assert.Contains($"security group {MissingSg} does not exist", refused.Msg, StringComparison.Ordinal);
        Assert.False(File.Exists(cni.DelegateRan), "the delegate ran for a pod whose groups were refused");
    }

    [Fact]
    public async Task Disabled_or_outside_the_allowlist_the_annotation_is_ignored_and_the_decision_says_so()
    {
        await using var world = await AgentWorld.CreateAsync();
        var agent = world.StartAgent();
        var web = Uid(await world.Kube.CreatePodAsync("app", "web", AgentWorld.NodeName, annotations: Annotated(GreenSg)));
        await AgentWorld.EventuallyAsync(() => Task.FromResult(agent.Records.ReadDecision(web) is not null), Wait, "decision");
        var decision = agent.Records.ReadDecision(web)!;
        Assert.False(decision.Branch);
        Assert.Contains("annotation is ignored: ENABLE_SG_ANNOTATION is not true", decision.Reason, StringComparison.Ordinal);

        await using var other = await EnabledAsync();
        var otherAgent = other.StartAgent();
        var elsewhere = Uid(await other.Kube.CreatePodAsync("other", "web", AgentWorld.NodeName, annotations: Annotated(GreenSg)));
        await AgentWorld.EventuallyAsync(() => Task.FromResult(otherAgent.Records.ReadDecision(elsewhere) is not null), Wait, "decision in other");
        Assert.False(otherAgent.Records.ReadDecision(elsewhere)!.Branch);
        Assert.Contains("namespace other is not in SG_ANNOTATION_NAMESPACES", otherAgent.Records.ReadDecision(elsewhere)!.Reason, StringComparison.Ordinal);
    }
}
