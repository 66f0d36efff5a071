using System.Globalization;
using System.Text.Json.Nodes;
using YamlDotNet.RepresentationModel;

namespace BranchEni.Sandbox.Kubernetes.Tables;

/// <summary>
/// The SecurityGroupPolicy columns, read from the CRD operators install (packaging/base/securitygrouppolicies.yaml,
/// embedded at build time) rather than restated here, so <c>kubectl get sgp</c> prints against the sandbox what it
/// prints on a cluster with our CRD. Like the API server: the name first, then the version's
/// additionalPrinterColumns, each a simple JSON path; string cells of lists and maps are their compact JSON.
/// </summary>
internal static class CustomResourceColumns
{
    private const string CrdResource = "securitygrouppolicies.yaml";

    private static readonly Lazy<IReadOnlyList<TableColumn>> Sgp = new(() =>
    {
        using var stream = typeof(CustomResourceColumns).Assembly.GetManifestResourceStream(CrdResource)
            ?? throw new InvalidOperationException($"the sandbox was built without its embedded {CrdResource}");
        using var reader = new StreamReader(stream);
        return FromCrd(reader.ReadToEnd(), ResourceTypes.SecurityGroupPolicies.Version);
    });

    public static IReadOnlyList<TableColumn> SecurityGroupPolicies => Sgp.Value;

    /// <summary>The columns a CRD declares for one version; throws on a column the sandbox cannot evaluate.</summary>
    public static IReadOnlyList<TableColumn> FromCrd(string yaml, string version)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        var versions = Child(stream.Documents[0].RootNode, "spec", "versions") as YamlSequenceNode
            ?? throw new FormatException("the CRD has no spec.versions");
        var served = versions.Children.FirstOrDefault(v => Scalar(v, "name") == version)
            ?? throw new FormatException($"the CRD has no version {version}");
        var columns = new List<TableColumn> { TableColumn.ObjectName };
        if (Child(served, "additionalPrinterColumns") is not YamlSequenceNode declared || declared.Children.Count == 0)
        {
            // A CRD that declares no columns gets the age, as the API server gives it.
            columns.Add(TableColumn.CreationAge);
            return columns;
        }

        foreach (var column in declared.Children)
        {
            var name = Scalar(column, "name") ?? throw new FormatException("a printer column has no name");
            var type = Scalar(column, "type") ?? "string";
            var path = JsonPath.Parse(Scalar(column, "jsonPath") ?? throw new FormatException($"printer column {name} has no jsonPath"));
            var priority = int.Parse(Scalar(column, "priority") ?? "0", CultureInfo.InvariantCulture);
            columns.Add(new TableColumn(name, type, Scalar(column, "description") ?? "", priority, (o, now) => Cell(type, path.Find(o), now))
            {
                Format = Scalar(column, "format") ?? "",
            });
        }

        return columns;
    }

    private static JsonNode? Cell(string type, JsonNode? value, DateTime now) => (type, value) switch
    {
        (_, null) => null,
        ("date", _) => Age.Since(Meta.Str(value), now),
        ("string", JsonValue v) when v.TryGetValue<string>(out var s) => s,
        ("string", _) => value.ToJsonString(),
        _ => value.DeepClone(),
    };

    private static YamlNode? Child(YamlNode node, params string[] path)
    {
        foreach (var key in path)
        {
            if (node is not YamlMappingNode map || !map.Children.TryGetValue(new YamlScalarNode(key), out var next))
            {
                return null;
            }

            node = next;
        }

        return node;
    }

    private static string? Scalar(YamlNode node, string key) => (Child(node, key) as YamlScalarNode)?.Value;
}
