using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using BranchEni.Controller.Admission;
using BranchEni.Policy;

namespace BranchEni.Controller.Tests.Admission;

/// <summary>The mutating webhook's decision and its JSONPatch, on AdmissionReview JSON as the API server sends it.</summary>
public sealed class PodEniInjectorTests
{
    private static readonly SecurityGroupPolicy Backend = Policy("""{"podSelector": {"matchLabels": {"role": "backend"}}, "securityGroups": {"groupIds": ["sg-1"]}}""");

    private static readonly SecurityGroupPolicy ByAccount = Policy("""{"serviceAccountSelector": {"matchLabels": {"team": "db"}}, "securityGroups": {"groupIds": ["sg-2"]}}""");

    internal static SecurityGroupPolicy Policy(string spec, string ns = "app", string name = "p") =>
        SecurityGroupPolicy.Parse(JsonDocument.Parse($$$"""{"metadata": {"namespace": "{{{ns}}}", "name": "{{{name}}}"}, "spec": {{{spec}}}}""").RootElement);

    internal static AdmissionRequest Request(string pod, string operation = "CREATE", string ns = "app", string user = "jane", string? oldPod = null) =>
        AdmissionRequest.Parse(JsonDocument.Parse($$$"""
            {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"uid": "u-1", "kind": {"group": "", "version": "v1", "kind": "Pod"},
             "namespace": "{{{ns}}}", "operation": "{{{operation}}}", "userInfo": {"username": "{{{user}}}"}, "object": {{{pod}}}{{{(oldPod is null ? "" : $", \"oldObject\": {oldPod}")}}}}}
            """).RootElement);

    private static SelectionInputs Inputs(bool synced = true, Dictionary<string, string>? accountLabels = null, params SecurityGroupPolicy[] policies) =>
        new(synced, policies, (ns, name) => ns == "app" && name == "db-client" ? accountLabels : null);

    private static string Pod(string labels, string container = """{"name": "c", "image": "i"}""", string extra = "") =>
        $$$"""{"metadata": {"generateName": "x-", "labels": {{{labels}}}}, "spec": {"containers": [{{{container}}}, {"name": "side", "image": "s"}]{{{extra}}}}}""";

    private static JsonArray PatchOf(AdmissionVerdict verdict) => JsonNode.Parse(Encoding.UTF8.GetString(Assert.IsType<byte[]>(verdict.JsonPatch)))!.AsArray();

    [Fact]
    public void A_selected_pod_without_resources_gets_one_add_creating_requests_and_limits()
    {
        var verdict = PodEniInjector.Decide(Request(Pod("""{"role": "backend"}""")), Inputs(policies: Backend));

        Assert.True(verdict.Allowed);
        var op = Assert.Single(PatchOf(verdict))!;
        Assert.Equal("add", op["op"]!.GetValue<string>());
        Assert.Equal("/spec/containers/0/resources", op["path"]!.GetValue<string>());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"requests": {"vpc.amazonaws.com/pod-eni": "1"}, "limits": {"vpc.amazonaws.com/pod-eni": "1"}}"""), op["value"]));
    }

    [Fact]
    public void Existing_requests_get_the_key_escaped_as_json_pointer_and_missing_limits_are_created()
    {
        var container = """{"name": "c", "image": "i", "resources": {"requests": {"cpu": "100m"}}}""";
        var verdict = PodEniInjector.Decide(Request(Pod("""{"role": "backend"}""", container)), Inputs(policies: Backend));

        var ops = PatchOf(verdict);
        Assert.Equal(["/spec/containers/0/resources/requests/vpc.amazonaws.com~1pod-eni", "/spec/containers/0/resources/limits"],
            ops.Select(o => o!["path"]!.GetValue<string>()));
        Assert.Equal("1", ops[0]!["value"]!.GetValue<string>());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"vpc.amazonaws.com/pod-eni": "1"}"""), ops[1]!["value"]));
    }

    [Theory]
    [InlineData("""{"name": "c", "image": "i", "resources": {"limits": {"vpc.amazonaws.com/pod-eni": "1"}}}""", "")]
    [InlineData("""{"name": "c", "image": "i"}""", ", \"hostNetwork\": true")]
    public void A_pod_already_requesting_it_or_on_the_host_network_is_left_alone(string container, string extra)
    {
        var verdict = PodEniInjector.Decide(Request(Pod("""{"role": "backend"}""", container, extra)), Inputs(policies: Backend));
        Assert.Same(AdmissionVerdict.Allow, verdict);
    }

    [Fact]
    public void A_request_in_a_later_container_counts_as_already_requested()
    {
        var pod = """{"metadata": {"labels": {"role": "backend"}}, "spec": {"containers": [{"name": "a"}, {"name": "b", "resources": {"requests": {"vpc.amazonaws.com/pod-eni": "1"}}}]}}""";
        Assert.Null(PodEniInjector.Decide(Request(pod), Inputs(policies: Backend)).JsonPatch);
    }

    [Fact]
    public void A_pod_nothing_selects_is_untouched_and_so_is_one_in_another_namespace()
    {
        Assert.Null(PodEniInjector.Decide(Request(Pod("""{"role": "frontend"}""")), Inputs(policies: Backend)).JsonPatch);
        Assert.Null(PodEniInjector.Decide(Request(Pod("""{"role": "backend"}"""), ns: "other"), Inputs(policies: Backend)).JsonPatch);
    }

    [Fact]
    public void The_service_account_selector_reads_the_accounts_labels()
    {
        var pod = Pod("{}", extra: ", \"serviceAccountName\": \"db-client\"");
        Assert.NotNull(PodEniInjector.Decide(Request(pod), Inputs(accountLabels: new() { ["team"] = "db" }, policies: ByAccount)).JsonPatch);
        Assert.Null(PodEniInjector.Decide(Request(pod), Inputs(accountLabels: new() { ["team"] = "web" }, policies: ByAccount)).JsonPatch);
        Assert.Null(PodEniInjector.Decide(Request(Pod("{}")), Inputs(accountLabels: new() { ["team"] = "db" }, policies: ByAccount)).JsonPatch);
    }

    [Fact]
    public void Before_the_caches_sync_a_pod_that_might_need_a_branch_is_denied_with_try_again()
    {
        var verdict = PodEniInjector.Decide(Request(Pod("""{"role": "frontend"}""")), Inputs(synced: false, policies: Backend));
        Assert.False(verdict.Allowed);
        Assert.Contains("try again", verdict.Message, StringComparison.Ordinal);

        // hostNetwork pods (system daemons) need no selection and are never held up.
        Assert.True(PodEniInjector.Decide(Request(Pod("{}", extra: ", \"hostNetwork\": true")), Inputs(synced: false)).Allowed);
    }

    [Fact]
    public void Updates_are_not_mutated()
    {
        Assert.Same(AdmissionVerdict.Allow, PodEniInjector.Decide(Request(Pod("""{"role": "backend"}"""), "UPDATE"), Inputs(policies: Backend)));
    }

    [Fact]
    public void The_review_response_echoes_the_uid_and_carries_the_patch_in_base64()
    {
        var verdict = PodEniInjector.Decide(Request(Pod("""{"role": "backend"}""")), Inputs(policies: Backend));
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            verdict.WriteReview(json, "u-1");
        }

        var response = JsonNode.Parse(stream.ToArray())!["response"]!;
        Assert.Equal("u-1", response["uid"]!.GetValue<string>());
        Assert.True(response["allowed"]!.GetValue<bool>());
        Assert.Equal("JSONPatch", response["patchType"]!.GetValue<string>());
        Assert.Equal(verdict.JsonPatch, Convert.FromBase64String(response["patch"]!.GetValue<string>()));
    }
}
