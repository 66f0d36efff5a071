using BranchEni.Cni.Config;
using BranchEni.Cni.Logging;
using BranchEni.Cni.Protocol;
using BranchEni.Cni.Selection;
using BranchEni.Cni.Tests.Corpus;
using BranchEni.Contracts;
using BranchEni.Policy;

namespace BranchEni.Cni.Tests.Selection;

/// <summary>Which pods get a branch ENI, failing closed: the record first, then the agent's decision record, then the
/// API (the published branch-eni-kube: KubernetesClient's kubeconfig, real HTTP GETs against a fake API on loopback);
/// a pod that must have a branch is never delegated, and neither is one nothing has decided.</summary>
public sealed class BranchSelectorTests : IDisposable
{
    private const string Uid = "11111111-2222-3333-4444-555555555555";
    private const string Element = """[{"eniId":"eni-0f1","ifAddress":"0e:ee:16:bd:41:31","privateIp":"10.77.0.20","ipv6Addr":"","vlanId":7,"subnetCidr":"10.77.0.0/24","subnetV6Cidr":"","associationID":"a"}]""";
    private readonly string dir = Path.Combine(Path.GetTempPath(), $"branch-eni-sel-{Guid.NewGuid():N}");
    private readonly FakePodApi api = new(null);

    public BranchSelectorTests() => Directory.CreateDirectory(dir);

    private PluginConfig Config(bool kubeconfig = true) => new()
    {
        CniVersion = "1.0.0", Name = "pods", StateDir = dir, AnnotationWaitSeconds = 3,
        Kubeconfig = kubeconfig ? api.WriteKubeconfig(dir) : null,
    };

    /// <summary>The API reader as shipped: published beside the plugin binary.</summary>
    private static string Reader => Path.Combine(Path.GetDirectoryName(BranchEni.Testing.RepoPaths.RequireCniBinary())!, ExecPodReader.FileName);

    private static BranchSelector Selector(PluginConfig config, Action<TimeSpan>? sleep = null) =>
        new(config, Args, PluginLog.Silent()) { PodReaderFactory = k => new ExecPodReader(Reader, k, config.DefaultPodMetadataAccess), Sleep = sleep ?? Thread.Sleep };

    private static CniArgs Args => CniArgs.Parse($"K8S_POD_NAMESPACE=default;K8S_POD_NAME=web;K8S_POD_UID={Uid}");

    private static string Pod(string? annotation, bool requests = false, string labels = "{}", string serviceAccount = "default") =>
        "{\"metadata\":{\"uid\":\"" + Uid + "\",\"labels\":" + labels + ",\"annotations\":"
        + (annotation is null ? "{}" : "{\"vpc.amazonaws.com/pod-eni\":" + System.Text.Json.JsonSerializer.Serialize(annotation) + "}")
        + "},\"spec\":{\"serviceAccountName\":\"" + serviceAccount + "\",\"containers\":[{\"resources\":" + (requests ? "{\"limits\":{\"vpc.amazonaws.com/pod-eni\":\"1\"}}" : "{}") + "}]}}";

    [Fact]
    public void TheAnnotationFromTheApiSelectsTheBranch()
    {
        api.Pods["default/web"] = Pod(Element);

        var branch = Selector(Config()).Select();

        Assert.Equal(7, branch!.VlanId);
        Assert.Equal("10.77.0.20", branch.PrivateIp.ToString());
    }

    /// <summary>A pod with the pod-eni annotation and, optionally, Calico's security-groups annotation and labels.</summary>
    private static string AnnotatedPod(string? calicoGroups, string labels = "{}") =>
        "{\"metadata\":{\"uid\":\"" + Uid + "\",\"labels\":" + labels + ",\"annotations\":{\"vpc.amazonaws.com/pod-eni\":"
        + System.Text.Json.JsonSerializer.Serialize(Element)
        + (calicoGroups is null ? "" : ",\"aws.tigera.io/security-groups\":" + System.Text.Json.JsonSerializer.Serialize(calicoGroups))
        + "}},\"spec\":{\"containers\":[{}]}}";

    [Theory]
    [InlineData("[\"sg-0123456789abcdef0\"]", "{}", null, MetadataAccess.Denied)]
    [InlineData("[\"sg-0123456789abcdef0\"]", "{\"aws.tigera.io/allow-metadata-access\":\"true\"}", null, MetadataAccess.Allowed)]
    [InlineData("[\"sg-0123456789abcdef0\"]", "{\"aws.tigera.io/allow-metadata-access\":\"yes\"}", null, MetadataAccess.Denied)]
    [InlineData(null, "{}", null, MetadataAccess.Allowed)]
    [InlineData(null, "{}", MetadataAccess.Denied, MetadataAccess.Denied)]
    [InlineData("[\"sg-0123456789abcdef0\"]", "{}", MetadataAccess.Allowed, MetadataAccess.Allowed)]
    public void ABranchFromTheApiCarriesTheAgentsMetadataAccessRule(string? calicoGroups, string labels, MetadataAccess? clusterDefault, MetadataAccess expected)
    {
        // Wired before the agent recorded its verdict: the fallback must not open IMDS where the agent's record would deny it.
        api.Pods["default/web"] = AnnotatedPod(calicoGroups, labels);

        var branch = Selector(Config() with { DefaultPodMetadataAccess = clusterDefault }).Select();

        Assert.Equal(7, branch!.VlanId);
        Assert.Equal(expected, branch.MetadataAccess);
    }

    [Fact]
    public void AnAnswerWithoutAVerdictDenies() =>
        Assert.Equal(MetadataAccess.Denied, BranchSelector.MetadataAccessOf(new PodFacts(Uid, Element, true, "annotated")));

    [Fact]
    public void A_pod_answered_under_another_uid_is_refused_as_a_stale_sandbox()
    {
        // ADD's API fallback and CHECK's verdict without a record both read the pod through this one check.
        var same = new PodFacts(Uid, Element, true, "annotated");
        Assert.Same(same, BranchSelector.SamePod(same, Args));
        var e = Assert.Throws<CniException>(() => BranchSelector.SamePod(same with { Uid = "99999999-2222-3333-4444-555555555555" }, Args));
        Assert.Equal(CniErrorCode.BranchEniRefused, e.Code);
        Assert.Contains("not K8S_POD_UID " + Uid, e.Message, StringComparison.Ordinal);
    }

    private const string SgpList = "/apis/vpcresources.k8s.aws/v1beta1/namespaces/default/securitygrouppolicies";

    private void Policy(string name, string selector) =>
        api.Objects[SgpList] = "{\"items\":[{\"metadata\":{\"name\":\"" + name + "\",\"namespace\":\"default\"},\"spec\":{" + selector
            + ",\"securityGroups\":{\"groupIds\":[\"sg-0db\"]}}}]}";

    private void Decide(bool branch, string name = "web") =>
        new NodeRecords(dir).WriteDecision(new PodDecision(Uid, "default", name, branch, branch ? "SecurityGroupPolicy db selects it" : "no SecurityGroupPolicy selects it"));

    private void Record() => new NodeRecords(dir).WritePod(new PodRecord
    {
        EniId = "eni-0aa", IfAddress = "0e:ee:16:bd:41:32", PrivateIp = "10.77.0.21", VlanId = 9, SubnetCidr = "10.77.0.0/24",
        PodNamespace = "default", PodName = "web", PodUid = Uid,
    });

    private BranchSelector WithoutApi(PluginConfig config, Action<TimeSpan>? sleep = null) =>
        new(config, Args, PluginLog.Silent()) { PodReaderFactory = _ => throw new InvalidOperationException("API touched"), Sleep = sleep ?? Thread.Sleep };

    [Fact]
    public void APodNothingSelectsIsDelegated()
    {
        api.Pods["default/web"] = Pod(null, labels: """{"role":"frontend"}""");
        Policy("db", """ "podSelector":{"matchLabels":{"role":"backend"}} """);

        Assert.Null(Selector(Config()).Select());
    }

    [Fact]
    public void APodAPolicySelectsIsNeverDelegatedButTryAgainLaterNamingThePolicy()
    {
        api.Pods["default/web"] = Pod(null, labels: """{"role":"backend"}""");
        Policy("allow-db", """ "podSelector":{"matchLabels":{"role":"backend"}} """);

        var e = Assert.Throws<CniException>(() => Selector(Config() with { AnnotationWaitSeconds = 1 }).Select());

        Assert.Equal(CniErrorCode.TryAgainLater, e.Code);
        Assert.Contains("SecurityGroupPolicy allow-db selects it", e.Message, StringComparison.Ordinal);
        Assert.True(api.Requests > 1, "the selector waited, reading the pod again");
    }

    /// <summary>branch-eni-kube cannot know whether the agents honour aws.tigera.io/security-groups, so an annotated pod
    /// without a decision record fails closed; the agent's record, once written, decides (see the next tests).</summary>
    [Fact]
    public void AnAnnotatedPodWithoutADecisionIsTryAgainLaterNamingTheAnnotation()
    {
        api.Pods["default/web"] = Pod(null).Replace("\"annotations\":{}", "\"annotations\":{\"aws.tigera.io/security-groups\":\"[\\\"sg-0123abcd\\\"]\"}", StringComparison.Ordinal);

        var e = Assert.Throws<CniException>(() => Selector(Config() with { AnnotationWaitSeconds = 1 }).Select());

        Assert.Equal(CniErrorCode.TryAgainLater, e.Code);
        Assert.Contains("its aws.tigera.io/security-groups annotation names sg-0123abcd", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AServiceAccountSelectorSelectsThroughTheAccountsLabels()
    {
        api.Pods["default/web"] = Pod(null, serviceAccount: "db-client");
        Policy("by-account", """ "serviceAccountSelector":{"matchLabels":{"db":"yes"}} """);
        api.Objects["/api/v1/namespaces/default/serviceaccounts/db-client"] = """{"metadata":{"name":"db-client","namespace":"default","labels":{"db":"yes"}}}""";

        var e = Assert.Throws<CniException>(() => Selector(Config() with { AnnotationWaitSeconds = 1 }).Select());
        Assert.Equal(CniErrorCode.TryAgainLater, e.Code);
        Assert.Contains("by-account", e.Message, StringComparison.Ordinal);

        api.Objects["/api/v1/namespaces/default/serviceaccounts/db-client"] = """{"metadata":{"name":"db-client","namespace":"default","labels":{"db":"no"}}}""";
        Assert.Null(Selector(Config()).Select());
    }

    [Fact]
    public void ASelectedPodGetsItsBranchOnceTheAgentsRecordAppearsWhileWaiting()
    {
        api.Pods["default/web"] = Pod(null, labels: """{"role":"backend"}""");
        Policy("allow-db", """ "podSelector":{} """);
        var sleeps = 0;

        var branch = Selector(Config(), _ =>
        {
            if (++sleeps == 2)
            {
                Record();
            }
        }).Select();

        Assert.Equal(9, branch!.VlanId);
    }

    [Fact]
    public void TheAgentsNoBranchDecisionDelegatesWithoutTheApi()
    {
        Decide(branch: false);

        Assert.Null(WithoutApi(Config()).Select());
        Assert.Null(WithoutApi(Config(kubeconfig: false)).Select());
    }

    [Fact]
    public void TheAgentsBranchDecisionWaitsForTheRecordWithoutTheApi()
    {
        Decide(branch: true);
        var sleeps = 0;

        var branch = WithoutApi(Config(), _ =>
        {
            if (++sleeps == 3)
            {
                Record();
            }
        }).Select();

        Assert.Equal(9, branch!.VlanId);
    }

    [Fact]
    public void ABranchDecisionWithoutARecordInTimeIsTryAgainLaterWithItsReason()
    {
        Decide(branch: true);

        var e = Assert.Throws<CniException>(() => WithoutApi(Config(kubeconfig: false) with { AnnotationWaitSeconds = 1 }).Select());

        Assert.Equal(CniErrorCode.TryAgainLater, e.Code);
        Assert.Contains("SecurityGroupPolicy db selects it", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ADecisionTurnedToNoBranchWhileWaitingDelegates()
    {
        Decide(branch: true);
        var sleeps = 0;

        Assert.Null(WithoutApi(Config(), _ =>
        {
            if (++sleeps == 2)
            {
                Decide(branch: false);
            }
        }).Select());
    }

    [Fact]
    public void ADecisionNamingAnotherPodIsRefused()
    {
        Decide(branch: false, name: "other");

        var e = Assert.Throws<CniException>(() => WithoutApi(Config()).Select());

        Assert.Equal(CniErrorCode.BranchEniRefused, e.Code);
    }

    [Fact]
    public void WithNoDecisionAndNoKubeconfigThePodIsTryAgainLaterNotDelegated()
    {
        var e = Assert.Throws<CniException>(() => WithoutApi(Config(kubeconfig: false)).Select());

        Assert.Equal(CniErrorCode.TryAgainLater, e.Code);
        Assert.Contains("not delegating", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void APodRequestingTheResourceIsWaitedForWithBackoffUntilTheAnnotationArrives()
    {
        api.Pods["default/web"] = Pod(null, requests: true);
        var sleeps = new List<TimeSpan>();
        var selector = Selector(Config(), d =>
        {
            sleeps.Add(d);
            if (sleeps.Count == 3)
            {
                api.Pods["default/web"] = Pod(Element, requests: true);
            }
        });

        Assert.Equal(7, selector.Select()!.VlanId);
        Assert.Equal(4, api.Requests);
        Assert.True(sleeps[1] > sleeps[0] && sleeps[2] > sleeps[1], string.Join(",", sleeps));
    }

    [Fact]
    public void TheRecordWinsAndTheApiIsNotTouched()
    {
        new NodeRecords(dir).WritePod(new PodRecord
        {
            EniId = "eni-0aa", IfAddress = "0e:ee:16:bd:41:32", PrivateIp = "10.77.0.21", VlanId = 9, SubnetCidr = "10.77.0.0/24",
            PodNamespace = "default", PodName = "web", PodUid = Uid,
        });
        var selector = new BranchSelector(Config(), Args, PluginLog.Silent()) { PodReaderFactory = _ => throw new InvalidOperationException("API touched") };

        Assert.Equal(9, selector.Select()!.VlanId);
    }

    [Fact]
    public void AnUnreachableApiIsTryAgainLater()
    {
        var config = Config();
        api.Dispose();
        var e = Assert.Throws<CniException>(() => Selector(config).Select());

        Assert.Equal(CniErrorCode.TryAgainLater, e.Code);
    }

    [Fact]
    public void AMissingApiReaderIsAnIoErrorNamingWhereItShouldBe()
    {
        api.Pods["default/web"] = Pod(Element);
        var missing = Path.Combine(dir, "nowhere", ExecPodReader.FileName);
        var selector = new BranchSelector(Config(), Args, PluginLog.Silent()) { PodReaderFactory = k => new ExecPodReader(missing, k) };

        var e = Assert.Throws<CniException>(selector.Select);

        Assert.Equal(CniErrorCode.IoFailure, e.Code);
        Assert.Contains(missing, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ABadKubeconfigIsAConfigErrorThroughTheReader()
    {
        var config = Config() with { Kubeconfig = Path.Combine(dir, "no-such-kubeconfig") };

        var e = Assert.Throws<CniException>(() => Selector(config).Select());

        Assert.Equal(CniErrorCode.InvalidNetworkConfig, e.Code);
        Assert.Contains("kubeconfig", e.Message, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        api.Dispose();
        Directory.Delete(dir, recursive: true);
    }
}
