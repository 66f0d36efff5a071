using System.Text.Json.Nodes;
using BranchEni.Sandbox.Kubernetes;
using BranchEni.Sandbox.Kubernetes.Tables;
using Microsoft.AspNetCore.Http;

namespace BranchEni.Sandbox.Tests.Units;

/// <summary>The pieces of server-side printing on their own: ages, printer-column paths, which requests get a Table.</summary>
public sealed class TableTests
{
    [Theory]
    [InlineData(-5, "<invalid>")]
    [InlineData(-0.5, "0s")]
    [InlineData(0, "0s")]
    [InlineData(119, "119s")]
    [InlineData(120, "2m")]
    [InlineData(200, "3m20s")]
    [InlineData(25 * 60 + 59, "25m")]
    [InlineData(179 * 60, "179m")]
    [InlineData(3 * 3600, "3h")]
    [InlineData(5 * 3600 + 10 * 60 + 5, "5h10m")]
    [InlineData(47 * 3600, "47h")]
    [InlineData(2 * 86400, "2d")]
    [InlineData(2 * 86400 + 3 * 3600, "2d3h")]
    [InlineData(400 * 86400, "400d")]
    [InlineData((3 * 365 + 20) * 86400, "3y20d")]
    [InlineData(9 * 365 * 86400.0, "9y")]
    public void Ages_read_as_the_api_server_writes_them(double seconds, string expected) =>
        Assert.Equal(expected, Age.Format(TimeSpan.FromSeconds(seconds)));

    [Theory]
    [InlineData("""{}""", "<none>")]
    [InlineData("""{"matchLabels": {"tier": "db", "app": "web"}}""", "app=web,tier=db")]
    [InlineData("""{"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "env", "operator": "In", "values": ["prod", "dev"]}, {"key": "canary", "operator": "DoesNotExist"}, {"key": "sg.aws.tigera.io/sg-1", "operator": "Exists"}]}""",
        "app=web,!canary,env in (dev,prod),sg.aws.tigera.io/sg-1")]
    public void Network_policies_print_their_pod_selector_as_kubectl_does(string selector, string expected)
    {
        var columns = TableConverter.ColumnsOf(ResourceTypes.NetworkPolicies);
        Assert.Equal(["Name", "Pod-Selector", "Age"], columns.Select(c => c.Name));
        var policy = JsonNode.Parse("""{"metadata": {"name": "p"}, "spec": {"podSelector": """ + selector + "}}")!.AsObject();
        Assert.Equal(expected, columns[1].Cell(policy, DateTime.UtcNow)!.GetValue<string>());
    }

    [Fact]
    public void Printer_column_paths_follow_fields_and_indexes_and_refuse_the_rest()
    {
        var obj = JsonNode.Parse("""{"spec":{"a":[{"b":"first"},{"b":"second"}]}}""")!.AsObject();
        Assert.Equal("second", JsonPath.Parse(".spec.a[1].b").Find(obj)!.GetValue<string>());
        Assert.Null(JsonPath.Parse(".spec.a[2].b").Find(obj));
        Assert.Null(JsonPath.Parse(".status.phase").Find(obj));
        Assert.Throws<FormatException>(() => JsonPath.Parse("{.spec.a}"));
        Assert.Throws<FormatException>(() => JsonPath.Parse(".spec.a[*].b"));
    }

    [Fact]
    public void A_crd_without_printer_columns_prints_name_and_age_and_one_with_them_prints_name_then_them()
    {
        const string bare = "spec:\n  versions:\n    - name: v1\n";
        Assert.Equal(["Name", "Age"], CustomResourceColumns.FromCrd(bare, "v1").Select(c => c.Name));

        const string declared = """
            spec:
              versions:
                - name: v1
                  additionalPrinterColumns:
                    - {name: Replicas, type: integer, jsonPath: .spec.replicas}
                    - {name: Mode, type: string, jsonPath: .spec.mode, priority: 1}
            """;
        var columns = CustomResourceColumns.FromCrd(declared, "v1");
        Assert.Equal([("Name", 0), ("Replicas", 0), ("Mode", 1)], columns.Select(c => (c.Name, c.Priority)));
        var obj = JsonNode.Parse("""{"metadata":{"name":"x"},"spec":{"replicas":3}}""")!.AsObject();
        var cells = columns.Select(c => c.Cell(obj, DateTime.UtcNow)?.ToJsonString()).ToList();
        Assert.Equal(["\"x\"", "3", null], cells);
    }

    [Theory]
    [InlineData("application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json", "", "meta.k8s.io/v1", "PartialObjectMetadata")]
    [InlineData("application/json;as=Table;v=v1beta1;g=meta.k8s.io", "Object", "meta.k8s.io/v1beta1", "Object")]
    [InlineData("application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io, application/json;as=Table;v=v1;g=meta.k8s.io", "None", "meta.k8s.io/v1", "None")]
    [InlineData("application/json", "", null, null)]
    [InlineData("application/json, application/json;as=Table;v=v1;g=meta.k8s.io", "", null, null)]
    [InlineData("application/vnd.kubernetes.protobuf, */*", "", null, null)]
    public void Only_a_request_that_prefers_a_table_gets_one(string accept, string includeObject, string? apiVersion, string? row)
    {
        var context = new DefaultHttpContext();
        context.Request.Headers.Accept = accept;
        context.Request.QueryString = includeObject.Length > 0 ? new QueryString($"?includeObject={includeObject}") : QueryString.Empty;

        var table = TableRequest.From(context.Request);

        Assert.Equal(apiVersion, table?.ApiVersion);
        Assert.Equal(row, table?.Row.ToString());
    }

    [Fact]
    public void Every_served_type_has_its_name_column_first()
    {
        Assert.All(ResourceTypes.All, t => Assert.Same(TableColumn.ObjectName, TableConverter.ColumnsOf(t)[0]));
    }
}
