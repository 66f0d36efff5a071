using BranchEni.Cni.Config;
using BranchEni.Cni.Protocol;
using BranchEni.Cni.Selection;
using BranchEni.Cni.Tests.Corpus;
using BranchEni.Contracts;
using Serilog.Core;

namespace BranchEni.Cni.Tests.Selection;

/// <summary>Which pods get a branch ENI: record first, then the API (KubernetesClient's kubeconfig, a real HTTP
/// GET against a fake API on loopback), else delegation.</summary>
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

    private static CniArgs Args => CniArgs.Parse($"K8S_POD_NAMESPACE=default;K8S_POD_NAME=web;K8S_POD_UID={Uid}");

    private static string Pod(string? annotation, bool requests = false) =>
        "{\"metadata\":{\"uid\":\"" + Uid + "\",\"annotations\":"
        + (annotation is null ? "{}" : "{\"vpc.amazonaws.com/pod-eni\":" + System.Text.Json.JsonSerializer.Serialize(annotation) + "}")
        + "},\"spec\":{\"containers\":[{\"resources\":" + (requests ? "{\"limits\":{\"vpc.amazonaws.com/pod-eni\":\"1\"}}" : "{}") + "}]}}";

    [Fact]
    public void TheAnnotationFromTheApiSelectsTheBranch()
    {
        api.Pods["default/web"] = Pod(Element);

        var branch = new BranchSelector(Config(), Args, Logger.None).Select();

        Assert.Equal(7, branch!.VlanId);
        Assert.Equal("10.77.0.20", branch.PrivateIp.ToString());
    }

    [Fact]
    public void APodWithoutAnnotationOrRequestIsDelegated()
    {
        api.Pods["default/web"] = Pod(null);

        Assert.Null(new BranchSelector(Config(), Args, Logger.None).Select());
        Assert.Null(new BranchSelector(Config(kubeconfig: false), Args, Logger.None).Select());
    }

    [Fact]
    public void APodRequestingTheResourceIsWaitedForWithBackoffUntilTheAnnotationArrives()
    {
        api.Pods["default/web"] = Pod(null, requests: true);
        var sleeps = new List<TimeSpan>();
        var selector = new BranchSelector(Config(), Args, Logger.None)
        {
            Sleep = d =>
            {
                sleeps.Add(d);
                if (sleeps.Count == 3)
                {
                    api.Pods["default/web"] = Pod(Element, requests: true);
                }
            },
        };

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
        var selector = new BranchSelector(Config(), Args, Logger.None) { PodReaderFactory = _ => throw new InvalidOperationException("API touched") };

        Assert.Equal(9, selector.Select()!.VlanId);
    }

    [Fact]
    public void AnUnreachableApiIsTryAgainLater()
    {
        var config = Config();
        api.Dispose();
        var e = Assert.Throws<CniException>(() => new BranchSelector(config, Args, Logger.None).Select());

        Assert.Equal(CniErrorCode.TryAgainLater, e.Code);
    }

    public void Dispose()
    {
        api.Dispose();
        Directory.Delete(dir, recursive: true);
    }
}
