using System.Net;
using System.Text.Json;
using Amazon.EC2;
using Amazon.EC2.Model;
using BranchEni.Sandbox.Hosting;
using BranchEni.Sandbox.Seed;
using k8s;
using k8s.Models;

namespace BranchEni.Sandbox.Tests.Cluster;

/// <summary>TerminateInstance as EC2 and Kubernetes do it, seen through the real SDK and KubernetesClient.</summary>
public sealed class TerminationTests
{
    private sealed record World(string Node2, string Trunk, string Extra, string Primary, string[] Branches);

    /// <summary>node-2 as our agent leaves it: a trunk attached with DeleteOnTermination, two tagged branches on it.</summary>
    private static async Task<World> NodeWithBranchesAsync(SandboxHost sandbox, AmazonEC2Client ec2, k8s.Kubernetes kube)
    {
        var node2 = sandbox.Admin.Snapshot().Instances.Single(i => i.Id != DefaultSeed.NodeInstanceId).Id;
        var primary = sandbox.Admin.Snapshot().NetworkInterfaces.Single(e => e.InstanceId == node2).Id;
        var trunk = await Ec2.Ec2Steps.AttachedTrunkAsync(ec2, node2, deviceIndex: 1);
        var attachment = (await ec2.DescribeNetworkInterfacesAsync(new DescribeNetworkInterfacesRequest { NetworkInterfaceIds = [trunk] })).NetworkInterfaces[0].Attachment.AttachmentId;
        await ec2.ModifyNetworkInterfaceAttributeAsync(new ModifyNetworkInterfaceAttributeRequest
        {
            NetworkInterfaceId = trunk, Attachment = new NetworkInterfaceAttachmentChanges { AttachmentId = attachment, DeleteOnTermination = true },
        });
        var extra = await Ec2.Ec2Steps.BranchAsync(ec2);
        await ec2.AttachNetworkInterfaceAsync(new AttachNetworkInterfaceRequest { NetworkInterfaceId = extra, InstanceId = node2, DeviceIndex = 2 });
        var branches = new string[2];
        for (var vlan = 1; vlan <= 2; vlan++)
        {
            branches[vlan - 1] = await Ec2.Ec2Steps.BranchAsync(ec2, tags: [new Tag("eks:eni:owner", "branch-eni"), new Tag("pod", $"p{vlan}")]);
            await ec2.AssociateTrunkInterfaceAsync(new AssociateTrunkInterfaceRequest { BranchInterfaceId = branches[vlan - 1], TrunkInterfaceId = trunk, VlanId = vlan });
        }

        foreach (var (name, node) in new[] { ("on-2", "node-2"), ("on-1", "node-1") })
        {
            await kube.CoreV1.CreateNamespacedPodAsync(new V1Pod
            {
                Metadata = new V1ObjectMeta { Name = name },
                Spec = new V1PodSpec { NodeName = node, Containers = [new V1Container { Name = "app", Image = "busybox" }] },
            }, "default");
        }

        return new World(node2, trunk, extra, primary, branches);
    }

    [Fact]
    public async Task An_associated_branch_is_in_use_as_on_ec2_and_available_again_once_disassociated()
    {
        await using var sandbox = await TestSandbox.StartAsync();
        using var ec2 = TestSandbox.Ec2(sandbox);
        var trunk = await Ec2.Ec2Steps.AttachedTrunkAsync(ec2, DefaultSeed.NodeInstanceId);
        var branch = await Ec2.Ec2Steps.BranchAsync(ec2);
        var association = (await ec2.AssociateTrunkInterfaceAsync(new AssociateTrunkInterfaceRequest { BranchInterfaceId = branch, TrunkInterfaceId = trunk, VlanId = 7 })).InterfaceAssociation;
        var associated = (await ec2.DescribeNetworkInterfacesAsync(new DescribeNetworkInterfacesRequest { NetworkInterfaceIds = [branch] })).NetworkInterfaces[0];
        Assert.Equal(("in-use", null), (associated.Status.Value, associated.Attachment));
        var available = new DescribeNetworkInterfacesRequest { Filters = [new Filter("status", ["available"])] };
        // The SDK (v4) leaves an empty list null.
        Assert.DoesNotContain(branch, ((await ec2.DescribeNetworkInterfacesAsync(available)).NetworkInterfaces ?? []).Select(e => e.NetworkInterfaceId));

        await ec2.DisassociateTrunkInterfaceAsync(new DisassociateTrunkInterfaceRequest { AssociationId = association.AssociationId });
        Assert.Contains(branch, (await ec2.DescribeNetworkInterfacesAsync(available)).NetworkInterfaces.Select(e => e.NetworkInterfaceId));
    }

    [Fact]
    public async Task Terminating_an_instance_deletes_its_trunk_frees_its_branches_and_removes_its_node_and_pods()
    {
        await using var sandbox = await TestSandbox.StartAsync(o => o.Seed = ClusterSeed.Create(2));
        using var ec2 = TestSandbox.Ec2(sandbox);
        using var kube = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = sandbox.Endpoints.Kubernetes.ToString() });
        var w = await NodeWithBranchesAsync(sandbox, ec2, kube);
        var imds = sandbox.Endpoints.ImdsByInstance[w.Node2];
        Assert.Equal(w.Node2, await ImdsClient.IdentityAsync(imds));

        using var admin = new HttpClient { BaseAddress = sandbox.Endpoints.Admin };
        using var answer = await admin.PostAsync($"/ec2/instances/{w.Node2}/terminate", null);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        using var report = JsonDocument.Parse(await answer.Content.ReadAsStringAsync());
        Assert.Equal(new[] { w.Primary, w.Trunk }.Order(StringComparer.Ordinal), Strings(report, "deletedNetworkInterfaces").Order(StringComparer.Ordinal));
        Assert.Equal([w.Extra], Strings(report, "detachedNetworkInterfaces"));
        Assert.Equal(w.Branches.Order(StringComparer.Ordinal), Strings(report, "disassociatedBranches").Order(StringComparer.Ordinal));
        Assert.Equal(["node-2"], Strings(report, "deletedNodes"));
        Assert.Equal(["default/on-2"], Strings(report, "deletedPods"));

        var instance = (await ec2.DescribeInstancesAsync(new DescribeInstancesRequest { InstanceIds = [w.Node2] })).Reservations[0].Instances[0];
        Assert.Equal(("terminated", 48), (instance.State.Name.Value, instance.State.Code));
        Assert.Empty(instance.NetworkInterfaces ?? []);
        Assert.Equal([w.Node2], await InstancesInState(ec2, "terminated"));
        Assert.DoesNotContain(w.Node2, await InstancesInState(ec2, "running"));

        var gone = await Assert.ThrowsAsync<AmazonEC2Exception>(() => ec2.DescribeNetworkInterfacesAsync(new DescribeNetworkInterfacesRequest { NetworkInterfaceIds = [w.Trunk] }));
        Assert.Equal("InvalidNetworkInterfaceID.NotFound", gone.ErrorCode);
        var left = (await ec2.DescribeNetworkInterfacesAsync(new DescribeNetworkInterfacesRequest { NetworkInterfaceIds = [w.Extra, .. w.Branches] })).NetworkInterfaces;
        Assert.All(left, e => Assert.Equal(("available", null), (e.Status.Value, e.Attachment)));
        Assert.All(left.Where(e => e.NetworkInterfaceId != w.Extra), e => Assert.Contains(e.TagSet, t => t.Key == "eks:eni:owner" && t.Value == "branch-eni"));
        var snapshot = sandbox.Admin.Snapshot();
        Assert.Empty(snapshot.Associations);
        Assert.Equal("terminated", snapshot.Instances.Single(i => i.Id == w.Node2).State);

        Assert.False(sandbox.Endpoints.ImdsByInstance.ContainsKey(w.Node2));
        await Assert.ThrowsAsync<HttpRequestException>(() => ImdsClient.IdentityAsync(imds));
        Assert.Equal(["node-1"], (await kube.CoreV1.ListNodeAsync()).Items.Select(n => n.Metadata.Name));
        Assert.Equal(["on-1"], (await kube.CoreV1.ListNamespacedPodAsync("default")).Items.Select(p => p.Metadata.Name));

        // A terminated instance takes no new interfaces.
        var refused = await Assert.ThrowsAsync<AmazonEC2Exception>(() =>
            ec2.AttachNetworkInterfaceAsync(new AttachNetworkInterfaceRequest { NetworkInterfaceId = w.Extra, InstanceId = w.Node2, DeviceIndex = 1 }));
        Assert.Equal("IncorrectInstanceState", refused.ErrorCode);
    }

    [Fact]
    public async Task Terminating_twice_is_a_no_op_and_an_unknown_id_is_404_changing_nothing()
    {
        await using var sandbox = await TestSandbox.StartAsync(o => o.Seed = ClusterSeed.Create(2));
        var node2 = sandbox.Admin.Snapshot().Instances.Single(i => i.Id != DefaultSeed.NodeInstanceId).Id;
        using var admin = new HttpClient { BaseAddress = sandbox.Endpoints.Admin };
        var before = Describe(sandbox);
        using var unknown = await admin.PostAsync("/ec2/instances/i-0000000000000dead/terminate", null);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("i-0000000000000dead", await unknown.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Throws<KeyNotFoundException>(() => sandbox.Admin.TerminateInstance("i-0000000000000dead"));
        Assert.Equal(before, Describe(sandbox));
        Assert.All(sandbox.Admin.Snapshot().Instances, i => Assert.Equal("running", i.State));

        var first = sandbox.Admin.TerminateInstance(node2);
        Assert.False(first.AlreadyTerminated);
        var afterFirst = Describe(sandbox);
        Assert.NotEqual(before, afterFirst);
        using var second = await admin.PostAsync($"/ec2/instances/{node2}/terminate", null);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        using var report = JsonDocument.Parse(await second.Content.ReadAsStringAsync());
        Assert.True(report.RootElement.GetProperty("alreadyTerminated").GetBoolean());
        Assert.Equal(afterFirst, Describe(sandbox));
    }

    private static async Task<List<string>> InstancesInState(AmazonEC2Client ec2, string state) =>
        (await ec2.DescribeInstancesAsync(new DescribeInstancesRequest { Filters = [new Filter("instance-state-name", [state])] }))
            .Reservations.SelectMany(r => r.Instances).Select(i => i.InstanceId).ToList();

    /// <summary>Instances with their state, ENIs with status and attachment, associations: what termination changes.</summary>
    private static string Describe(SandboxHost sandbox)
    {
        var s = sandbox.Admin.Snapshot();
        return string.Join('\n', s.Instances.Select(i => $"{i.Id} {i.State}")
            .Concat(s.NetworkInterfaces.Select(e => $"{e.Id} {e.Status} {e.InstanceId} {e.DeviceIndex}"))
            .Concat(s.Associations.Select(a => $"{a.BranchInterfaceId} {a.TrunkInterfaceId} {a.VlanId}")));
    }

    private static List<string> Strings(JsonDocument document, string property) =>
        document.RootElement.GetProperty(property).EnumerateArray().Select(e => e.GetString()!).ToList();
}
