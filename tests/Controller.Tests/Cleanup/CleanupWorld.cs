using System.Diagnostics;
using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.Runtime;
using BranchEni.Aws;
using BranchEni.Controller.Cleanup;
using BranchEni.Controller.Observability;
using BranchEni.Controller.Tests.Sandbox;
using BranchEni.Kube;
using BranchEni.Sandbox.Hosting;
using BranchEni.Sandbox.Seed;
using k8s;
using k8s.Models;
using Serilog;

namespace BranchEni.Controller.Tests.Cleanup;

/// <summary>
/// One sandbox (EC2 and the API server, no latency) for the cleanup tests, reached only through the real AWSSDK.EC2 and
/// KubernetesClient. Each test uses its own cluster name, so a pass sees only that test's ENIs.
/// </summary>
public sealed class CleanupWorld : IAsyncLifetime
{
    /// <summary>An instance id the sandbox never had: EC2 answers InvalidInstanceID.NotFound for it.</summary>
    public const string GoneInstance = "i-0deadbeef00000001";

    /// <summary>The trunk a branch is tagged with unless a test says otherwise: gone with its instance, as EC2 does.</summary>
    public const string GoneTrunk = "eni-0deadbeef00000001";

    public SandboxHost Sandbox { get; private set; } = null!;

    public AmazonEC2Client Ec2 { get; private set; } = null!;

    internal KubeConnection Kube { get; private set; } = null!;

    public CollectingSink Log { get; } = new();

    internal ILogger Logger { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Sandbox = await SandboxHost.StartAsync(new SandboxOptions
        {
            Latency = new LatencySettings { DescribeMilliseconds = 0, MutatingMilliseconds = 0, JitterMilliseconds = 0 },
        });
        Ec2 = new AmazonEC2Client(new BasicAWSCredentials("AKIASANDBOXEXAMPLE", "sandbox-secret"),
            new AmazonEC2Config { ServiceURL = Sandbox.Endpoints.Ec2.ToString(), AuthenticationRegion = "us-west-2" });
        Kube = new KubeConnection(new k8s.Kubernetes(new KubernetesClientConfiguration { Host = Sandbox.Endpoints.Kubernetes.ToString() }));
        Logger = new LoggerConfiguration().MinimumLevel.Debug().WriteTo.Sink(Log).CreateLogger();
    }

    /// <summary>A job over the sandbox with its own metrics; leader unless told otherwise.</summary>
    internal EniCleanupJob Job(string cluster, ControllerMetrics metrics, Func<IReadOnlySet<string>?> pods, TimeProvider? clock = null,
        Func<bool>? isLeader = null, TimeSpan? cooldown = null, TimeSpan? interval = null) =>
        new(() => new CleanupEc2(Ec2, new Ec2CallPolicy(new Ec2CallLimits(), metrics, Logger)), cluster, isLeader ?? (() => true), pods, metrics, Logger)
        {
            Clock = clock ?? TimeProvider.System,
            Cooldown = cooldown ?? TimeSpan.FromSeconds(300),
            Interval = interval ?? TimeSpan.FromSeconds(60),
        };

    /// <summary>An ENI shaped as the agents make them: a branch (or trunk) with the contract's tags; null values are left out.</summary>
    public Task<string> CreateEniAsync(string kind, string? cluster, string? instance, string? podUid = null, string? owner = EniTags.OwnerValue,
        string clusterValue = "owned", string? trunk = GoneTrunk) => CreateEniAsync(Ec2, kind, cluster, instance, podUid, owner, clusterValue, trunk);

    public static async Task<string> CreateEniAsync(AmazonEC2Client ec2, string kind, string? cluster, string? instance, string? podUid = null,
        string? owner = EniTags.OwnerValue, string clusterValue = "owned", string? trunk = GoneTrunk)
    {
        var tags = new List<Tag>();
        void Add(string key, string? value)
        {
            if (value is not null)
            {
                tags.Add(new Tag(key, value));
            }
        }

        Add(EniTags.Owner, owner);
        if (cluster is not null)
        {
            Add(EniTags.Cluster(cluster), clusterValue);
        }

        Add(EniTags.InstanceId, instance);
        Add(EniTags.PodUid, podUid);
        Add(EniTags.VlanId, kind == "branch" ? "7" : null);
        Add(EniTags.TrunkEniId, kind == "branch" ? trunk : null);
        var request = new CreateNetworkInterfaceRequest
        {
            SubnetId = DefaultSeed.NodeSubnetId,
            Groups = [DefaultSeed.NodeSecurityGroupId],
            InterfaceType = kind == "trunk" ? NetworkInterfaceCreationType.Trunk : NetworkInterfaceCreationType.Branch,
            Description = kind == "trunk" ? EniTags.TrunkDescription : EniTags.BranchDescription,
        };
        if (tags.Count > 0)
        {
            request.TagSpecifications = [new TagSpecification { ResourceType = ResourceType.NetworkInterface, Tags = tags }];
        }

        return (await ec2.CreateNetworkInterfaceAsync(request)).NetworkInterface.NetworkInterfaceId;
    }

    public bool Exists(string eniId) => Sandbox.Admin.Snapshot().NetworkInterfaces.Any(e => e.Id == eniId);

    public long Calls(string action) => Sandbox.Admin.CallCounts.TryGetValue(action, out var c) ? c.Calls : 0;

    public async Task<string> CreatePodAsync(string name)
    {
        var pod = new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = name },
            Spec = new V1PodSpec { NodeName = "node-1", Containers = [new V1Container { Name = "app", Image = "busybox" }] },
        };
        return (await Kube.Client.CoreV1.CreateNamespacedPodAsync(pod, "default")).Metadata.Uid;
    }

    public static async Task Eventually(Func<bool> condition, string what, int seconds = 30)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(seconds), $"waited {seconds} s for {what}");
            await Task.Delay(20);
        }
    }

    public async Task DisposeAsync()
    {
        Ec2.Dispose();
        Kube.Dispose();
        await Sandbox.DisposeAsync();
    }
}

/// <summary>A clock the test steps: the cooldown is measured by it, never waited out.</summary>
internal sealed class SteppedClock : TimeProvider
{
    private long _now = 1;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => Interlocked.Read(ref _now);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _now, by.Ticks);
}
