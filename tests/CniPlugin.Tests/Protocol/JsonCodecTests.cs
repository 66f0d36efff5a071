using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using BranchEni.Cni.Config;
using BranchEni.Cni.Protocol;
using BranchEni.Contracts;

namespace BranchEni.Cni.Tests.Protocol;

/// <summary>
/// The hand-written readers and writer of the plugin's hot path against the source-generated contexts, which declare
/// the shapes: same objects from the same bytes (compared by re-serializing through the context), a JsonException for
/// the same bad inputs (naming the same field when the context names one), byte-identical output.
/// </summary>
public sealed class JsonCodecTests
{
    private const string FullConfig = """
        {"cniVersion":"1.0.0","name":"pods","type":"branch-eni","kubeconfig":"/etc/k","stateDir":"/run/be","trunkInterface":"ens6",
         "enforcingMode":"standard","mtu":1500,"vethPrefix":"eni","annotationWaitSeconds":3,"logFile":"/var/log/p.log","logLevel":"debug",
         "delegate":{"type":"ptp","ipam":{"type":"host-local","ranges":[[{"subnet":"10.88.0.0/24"}]]}},
         "prevResult":{"cniVersion":"1.0.0","interfaces":[{"name":"eth0"}],"ips":[{"address":"10.1.2.3/32"}]},
         "cni.dev/valid-attachments":[{"containerID":"a","ifname":"eth0"},null,{"containerID":"b","extra":[1,{"x":2}]}],
         "cni.dev/attachments":[],
         "runtimeConfig":{"portMappings":[{"hostPort":8080}]},"capabilities":{"portMappings":true},"args":{"cni":{"labels":[]}}}
        """;

    public static TheoryData<string> Configs => new()
    {
        FullConfig,
        """{"cniVersion":"1.0.0","name":"n","type":"branch-eni"}""",
        """{}""",
        """null""",
        """  {"mtu":null,"name":null,"delegate":null,"prevResult":null,"cni.dev/valid-attachments":null}  """,
        """{"mtu":1500,"mtu":9001,"name":"first","name":"second"}""",
        """{"\u006dtu":1400,"n\u0061me":"caf\u00e9 <&> \"q\""}""",
        """{"MTU":1400,"Name":"x","cniversion":"9"}""",
        """{"delegate":5,"prevResult":"text"}""",
        """{"unknown":{"deep":[[[{"a":[]}]]]},"name":"after"}""",
        """{"mtu":-2147483648,"annotationWaitSeconds":2147483647}""",
    };

    public static TheoryData<string> BadConfigs => new()
    {
        """{"mtu":"9001"}""",
        """{"mtu":1.5}""",
        """{"mtu":3000000000}""",
        """{"mtu":1e3}""",
        """{"name":5}""",
        """{"name":{"a":1}}""",
        """{"type":true}""",
        """{"cni.dev/valid-attachments":{}}""",
        """{"cni.dev/valid-attachments":["a"]}""",
        """{"cni.dev/attachments":[{"containerID":7}]}""",
        """[]""",
        """ "text" """,
        """{"name":"n"} {}""",
        """{"name":"n",}""",
        """{/* c */"name":"n"}""",
        """{"name":"n" """,
        "",
    };

    [Theory]
    [MemberData(nameof(Configs))]
    public void ConfigReadsAsTheContextReadsIt(string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);

        var expected = JsonSerializer.Deserialize(bytes, CniJsonContext.Default.RawPluginConfig);
        var actual = CniJsonCodec.ReadConfig(bytes);

        Assert.Equal(Canonical(expected, CniJsonContext.Default.RawPluginConfig), Canonical(actual, CniJsonContext.Default.RawPluginConfig));
    }

    [Theory]
    [MemberData(nameof(BadConfigs))]
    public void BadConfigFailsAsTheContextFails(string json) =>
        AssertBothRefuse(json, b => JsonSerializer.Deserialize(b, CniJsonContext.Default.RawPluginConfig), b => CniJsonCodec.ReadConfig(b));

    public static TheoryData<string> Results => new()
    {
        """
        {"cniVersion":"0.4.0","interfaces":[{"name":"vlan0123456789a","mac":"aa:bb:cc:dd:ee:01"},{"name":"eth0","mac":"aa:bb:cc:dd:ee:02","mtu":9001,"sandbox":"/var/run/netns/p"},null],
         "ips":[{"version":"4","address":"192.168.19.148/32","gateway":"169.254.1.1","interface":1}],
         "routes":[{"dst":"0.0.0.0/0","gw":"169.254.1.1","mtu":1400,"advmss":1360,"priority":5,"table":101,"scope":0}],
         "dns":{"nameservers":["10.0.0.10"],"search":["svc.cluster.local"]},"extra":{"x":[1,2]}}
        """,
        """{"cniVersion":"1.0.0"}""",
        """{"interfaces":null,"ips":null,"routes":null,"dns":null}""",
        """{"interfaces":[],"ips":[null],"routes":[{}]}""",
        """{"interfaces":[{"name":"e\u00e9<>&'+\\\"","sandbox":"/run/netns/\u2603"}]}""",
        """null""",
    };

    public static TheoryData<string> BadResults => new()
    {
        """{"ips":"none"}""",
        """{"interfaces":[{"name":1}]}""",
        """{"interfaces":[1]}""",
        """{"ips":[{"interface":"0"}]}""",
        """{"routes":[{"table":1.5}]}""",
        """{"cniVersion":[]}""",
        """[{}]""",
        """{"ips":[],}""",
    };

    [Theory]
    [MemberData(nameof(Results))]
    public void ResultReadsAsTheContextReadsIt(string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);

        var expected = JsonSerializer.Deserialize(bytes, CniJsonContext.Default.CniResult);
        var actual = CniJsonCodec.ReadResult(bytes);

        Assert.Equal(Canonical(expected, CniJsonContext.Default.CniResult), Canonical(actual, CniJsonContext.Default.CniResult));
    }

    [Theory]
    [MemberData(nameof(Results))]
    public void ResultWritesTheContextsBytes(string json)
    {
        if (JsonSerializer.Deserialize(json, CniJsonContext.Default.CniResult) is not { } result)
        {
            return; // JSON null is no result to write
        }

        foreach (var shaped in new[] { result, result.ForVersion("0.3.1"), result.ForVersion("1.1.0") })
        {
            var expected = JsonSerializer.SerializeToUtf8Bytes(shaped, CniJsonContext.Default.CniResult);
            Assert.Equal(Encoding.UTF8.GetString(expected), Encoding.UTF8.GetString(CniJsonCodec.ResultBytes(shaped)));
        }
    }

    [Theory]
    [MemberData(nameof(BadResults))]
    public void BadResultFailsAsTheContextFails(string json) =>
        AssertBothRefuse(json, b => JsonSerializer.Deserialize(b, CniJsonContext.Default.CniResult), b => CniJsonCodec.ReadResult(b));

    [Fact]
    public void AResultInsideAParsedDocumentReadsFromItsOwnBytes()
    {
        using var doc = JsonDocument.Parse("""{"prevResult":{"cniVersion":"1.0.0","ips":[{"address":"10.0.0.1/32"}]},"after":1}""");

        var result = CniJsonCodec.ReadResult(doc.RootElement.GetProperty("prevResult"))!;

        Assert.Equal("10.0.0.1/32", Assert.Single(result.Ips!).Address);
    }

    public static TheoryData<string> Records => new()
    {
        """
        {"eniId":"eni-0abc","ifAddress":"0e:ee:16:bd:41:31","privateIp":"192.168.19.148","ipv6Addr":"","vlanId":3,"subnetCidr":"192.168.0.0/19",
         "subnetV6Cidr":"","associationID":"trunk-assoc-1","podNamespace":"default","podName":"green","podUid":"0b8c9d7e-1111-2222-3333-444455556666"}
        """,
        """{"eniId":"eni-2","vlanId":4,"podUid":"ab","metadataAccess":"Denied"}""",
        """{"eniId":"eni-1","vlanId":null,"macAddress":"0e:ee:16:bd:41:31","linkName":"ens6","later":{"x":1}}""",
        """{"eniId":"eni-1","eniId":"eni-2","AssociationId":"wrong case"}""",
        """{"podUid":"0b8c9d7e-1111","podNamespace":"default","podName":"red","branch":false,"reason":"no SecurityGroupPolicy selects it"}""",
        """{"podUid":"u","branch":true,"branch":null,"Branch":true}""",
        """{}""",
        """null""",
    };

    public static TheoryData<string> BadRecords => new()
    {
        """{"vlanId":"3"}""",
        """{"vlanId":4.0}""",
        """{"eniId":["eni-1"]}""",
        """{"macAddress":1}""",
        """{"linkName":{}}""",
        """{"branch":"true"}""",
        """{"branch":1}""",
        """{"eniId":"x" """,
        """[]""",
    };

    [Theory]
    [MemberData(nameof(Records))]
    public void RecordsReadAsTheContextReadsThem(string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);

        Assert.Equal(Canonical(JsonSerializer.Deserialize(bytes, ContractsJsonContext.Default.PodRecord), ContractsJsonContext.Default.PodRecord),
            Canonical(ContractsJsonCodec.ReadPod(bytes), ContractsJsonContext.Default.PodRecord));
        Assert.Equal(Canonical(JsonSerializer.Deserialize(bytes, ContractsJsonContext.Default.TrunkRecord), ContractsJsonContext.Default.TrunkRecord),
            Canonical(ContractsJsonCodec.ReadTrunk(bytes), ContractsJsonContext.Default.TrunkRecord));
        Assert.Equal(Canonical(JsonSerializer.Deserialize(bytes, ContractsJsonContext.Default.PodDecision), ContractsJsonContext.Default.PodDecision),
            Canonical(ContractsJsonCodec.ReadDecision(bytes), ContractsJsonContext.Default.PodDecision));
    }

    [Theory]
    [MemberData(nameof(BadRecords))]
    public void BadRecordsFailAsTheContextFails(string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        var podRefused = Refuses(() => JsonSerializer.Deserialize(bytes, ContractsJsonContext.Default.PodRecord));
        var trunkRefused = Refuses(() => JsonSerializer.Deserialize(bytes, ContractsJsonContext.Default.TrunkRecord));
        var decisionRefused = Refuses(() => JsonSerializer.Deserialize(bytes, ContractsJsonContext.Default.PodDecision));

        Assert.True(podRefused is not null || trunkRefused is not null || decisionRefused is not null, "a bad record the context accepts is no test");
        AssertSameRefusal(podRefused, Refuses(() => ContractsJsonCodec.ReadPod(bytes)));
        AssertSameRefusal(trunkRefused, Refuses(() => ContractsJsonCodec.ReadTrunk(bytes)));
        AssertSameRefusal(decisionRefused, Refuses(() => ContractsJsonCodec.ReadDecision(bytes)));
    }

    private static string Canonical<T>(T? value, JsonTypeInfo<T> type) => value is null ? "null" : JsonSerializer.Serialize(value, type);

    private static void AssertBothRefuse(string json, Func<byte[], object?> context, Func<byte[], object?> codec)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        var expected = Refuses(() => context(bytes));

        Assert.NotNull(expected);
        AssertSameRefusal(expected, Refuses(() => codec(bytes)));
    }

    /// <summary>Both accept, or both refuse; when both name a field, the same one.</summary>
    private static void AssertSameRefusal(JsonException? expected, JsonException? actual)
    {
        Assert.Equal(expected is null, actual is null);
        if (expected?.Path is { } path && actual?.Path is { } ours)
        {
            Assert.Equal(path, ours);
        }
    }

    private static JsonException? Refuses(Func<object?> decode)
    {
        try
        {
            decode();
            return null;
        }
        catch (JsonException e)
        {
            return e;
        }
    }
}
