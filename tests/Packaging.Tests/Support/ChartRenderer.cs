using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace BranchEni.Packaging.Tests.Support;

/// <summary>
/// Renders packaging/chart/branch-eni WITHOUT helm (no helm binary or library is installable here). The chart is kept
/// to a grammar small enough to evaluate exactly as helm's Go templates would: `{{ .Values.a.b }}` (the value printed
/// as Go prints it), `{{ .Values.a.b | quote }}` (sprig's quote: Go's %q of the value as a string) and
/// `{{ .Release.Namespace }}`. Anything else in a template is refused, so the chart cannot drift into constructs this
/// renderer would get wrong. crds/ is copied verbatim, as helm installs it.
/// </summary>
internal static partial class ChartRenderer
{
    public static string ChartDir => Repo.PathOf("packaging", "chart", "branch-eni");

    [GeneratedRegex(@"\{\{-?\s*(.*?)\s*-?\}\}")]
    private static partial Regex Action();

    [GeneratedRegex(@"^\.Values((?:\.[A-Za-z][A-Za-z0-9]*)+)(\s*\|\s*quote)?$")]
    private static partial Regex ValuesExpression();

    public static JsonObject DefaultValues() => Yaml.Single(File.ReadAllText(Path.Combine(ChartDir, "values.yaml")));

    /// <summary>Every template expression in the chart, by file.</summary>
    public static IEnumerable<(string File, string Expression)> Expressions() =>
        Templates().SelectMany(f => Action().Matches(File.ReadAllText(f)).Select(m => (Path.GetFileName(f), m.Groups[1].Value)));

    public static IEnumerable<string> Templates() => Directory.EnumerateFiles(Path.Combine(ChartDir, "templates"), "*.yaml").Order(StringComparer.Ordinal);

    public static Manifests Render(JsonObject values, string releaseNamespace)
    {
        var objects = new List<JsonObject>();
        foreach (var file in Directory.EnumerateFiles(Path.Combine(ChartDir, "crds"), "*.yaml").Order(StringComparer.Ordinal))
        {
            objects.AddRange(Yaml.Documents(File.ReadAllText(file)));
        }

        foreach (var file in Templates())
        {
            objects.AddRange(Yaml.Documents(RenderText(File.ReadAllText(file), values, releaseNamespace, Path.GetFileName(file))));
        }

        return new Manifests(objects);
    }

    public static string RenderText(string template, JsonObject values, string releaseNamespace, string file) =>
        Action().Replace(template, m => Evaluate(m.Groups[1].Value, values, releaseNamespace, file));

    private static string Evaluate(string expression, JsonObject values, string releaseNamespace, string file)
    {
        if (expression == ".Release.Namespace")
        {
            return releaseNamespace;
        }

        var m = ValuesExpression().Match(expression);
        if (!m.Success)
        {
            throw new NotSupportedException($"{file}: '{{{{ {expression} }}}}' is outside the chart's template grammar");
        }

        var value = Lookup(values, m.Groups[1].Value);
        var text = GoPrint(value);
        return m.Groups[2].Success ? GoQuote(text) : text;
    }

    /// <summary>The scalar at a dotted path (".a.b"); a missing or non-scalar value is an error (helm would print
    /// "&lt;no value&gt;" or a Go map, neither of which a manifest wants).</summary>
    public static JsonValue Lookup(JsonObject values, string dotted)
    {
        JsonNode? node = values;
        foreach (var part in dotted.Split('.', StringSplitOptions.RemoveEmptyEntries))
        {
            node = node is JsonObject o && o.TryGetPropertyValue(part, out var next) ? next
                : throw new KeyNotFoundException($".Values{dotted}: '{part}' is not in values.yaml");
        }

        return node as JsonValue ?? throw new InvalidDataException($".Values{dotted} is not a scalar");
    }

    private static string GoPrint(JsonValue value) => value.GetValueKind() switch
    {
        System.Text.Json.JsonValueKind.String => value.GetValue<string>(),
        System.Text.Json.JsonValueKind.True => "true",
        System.Text.Json.JsonValueKind.False => "false",
        // helm reads numbers as float64; Go's %v prints whole ones below 1e21 without a fraction.
        System.Text.Json.JsonValueKind.Number when value.TryGetValue<long>(out var n) && Math.Abs(n) < 1_000_000_000_000_000_000 => n.ToString(CultureInfo.InvariantCulture),
        var kind => throw new NotSupportedException($"value kind {kind} is outside the chart's grammar"),
    };

    /// <summary>Go's strconv.Quote for printable ASCII (the only text values.yaml is allowed to hold).</summary>
    private static string GoQuote(string text)
    {
        var sb = new StringBuilder("\"");
        foreach (var c in text)
        {
            if (c is < ' ' or > '~')
            {
                throw new NotSupportedException($"'{text}': only printable ASCII is quoted by this renderer");
            }

            sb.Append(c is '"' or '\\' ? "\\" + c : c.ToString());
        }

        return sb.Append('"').ToString();
    }
}
