using BranchEni.Cni.Config;
using BranchEni.Cni.Logging;
using BranchEni.Cni.Protocol;
using BranchEni.Cni.Selection;
using BranchEni.Cni.Tests.Corpus;
using BranchEni.Contracts;

namespace BranchEni.Cni.Tests.Selection;

/// <summary>Which pods get a branch ENI: record first, then the API (the published branch-eni-kube: KubernetesClient's
/// kubeconfig, a real HTTP GET against a fake API on loopback), else delegation.</summary>
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
        new(config, Args, PluginLog.Silent()) { PodReaderFactory = k => new ExecPodReader(Reader, k), Sleep = sleep ?? Thread.Sleep };

    private static CniArgs Args => CniArgs.Parse($"K8S_POD_NAMESPACE=default;K8S_POD_NAME=web;K8S_POD_UID={Uid}");

    private static string Pod(string? annotation, bool requests = false) =>
        "{\"metadata\":{\"uid\":\"" + Uid + "\",\"annotations\":"
        + (annotation is null ? "{}" : "{\"vpc.amazonaws.com/pod-eni\":" + System.Text.Json.JsonSerializer.Serialize(annotation) + "}")
        + "},\"spec\":{\"containers\":[{\"resources\":" + (requests ? "{\"limits\":{\"vpc.amazonaws.com/pod-eni\":\"1\"}}" : "{}") + "}]}}";

    [Fact]
    public void TheAnnotationFromTheApiSelectsTheBranch()
    {
        api.Pods["default/web"] = Pod(Element);

        var branch = Selector(Config()).Select();

        Assert.Equal(7, branch!.VlanId);
        Assert.Equal("10.77.0.20", branch.PrivateIp.ToString());
    }

    [Fact]
    public void APodWithoutAnnotationOrRequestIsDelegated()
    {
        api.Pods["default/web"] = Pod(null);

        Assert.Null(Selector(Config()).Select());
        Assert.Null(Selector(Config(kubeconfig: false)).Select());
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
