using System.Text.Json;
using BranchEni.Agent.Kubernetes;

namespace BranchEni.Agent.Tests.Kubernetes;

public sealed class PodViewTests
{
    [Fact]
    public void Reads_what_the_agent_decides_on()
    {
        var pod = PodView.Parse(JsonDocument.Parse("""
            {"metadata": {"name": "green", "namespace": "app", "uid": "u-1", "labels": {"role": "green"},
                          "annotations": {"vpc.amazonaws.com/pod-eni": "[]", "other": "x"}},
             "spec": {"serviceAccountName": "db", "containers": [{"name": "c", "resources": {"limits": {"vpc.amazonaws.com/pod-eni": "1"}}}]},
             "status": {"phase": "Running"}}
            """).RootElement);
        Assert.Equal(("u-1", "app", "green", "db", "Running"), (pod.Uid, pod.Namespace, pod.Name, pod.ServiceAccount, pod.Phase));
        Assert.Equal("green", pod.Labels["role"]);
        Assert.Equal("[]", pod.PodEniAnnotation);
        Assert.True(pod.RequestsPodEni);
        Assert.False(pod.HostNetwork);
        Assert.False(pod.Finished);
    }

    [Fact]
    public void Defaults_and_finished_phases()
    {
        var pod = PodView.Parse(JsonDocument.Parse("""{"metadata": {"name": "p", "namespace": "n", "uid": "u"}, "spec": {"hostNetwork": true}, "status": {"phase": "Succeeded"}}""").RootElement);
        Assert.Equal("default", pod.ServiceAccount);
        Assert.True(pod.HostNetwork);
        Assert.True(pod.Finished);
        Assert.False(pod.RequestsPodEni);
        Assert.Null(pod.PodEniAnnotation);
    }

    [Fact]
    public void A_pod_without_uid_is_refused() =>
        Assert.Throws<FormatException>(() => PodView.Parse(JsonDocument.Parse("""{"metadata": {"name": "p", "namespace": "n"}}""").RootElement));

    [Fact]
    public void Node_view_reads_capacity_and_label()
    {
        var node = NodeView.Parse(JsonDocument.Parse("""{"metadata": {"name": "n1", "labels": {"vpc.amazonaws.com/has-trunk-attached": "true"}}, "status": {"capacity": {"vpc.amazonaws.com/pod-eni": "9", "cpu": "2"}}}""").RootElement);
        Assert.Equal(("n1", "9", "true"), (node.Name, node.PodEniCapacity, node.HasTrunkLabel));
    }
}
