using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace BranchEni.Packaging.Tests.Support;

/// <summary>packaging/iam-policy.json, and the EC2 actions the agent's source calls (every call goes through
/// <c>Ec2Gateway.Call("Action", …)</c>).</summary>
internal sealed partial class IamPolicy(JsonObject document)
{
    public JsonObject Document { get; } = document;

    public static IamPolicy Load() => new(JsonNode.Parse(Repo.Read("packaging", "iam-policy.json"))!.AsObject());

    public IReadOnlyList<JsonObject> Statements => [.. Document["Statement"]!.AsArray().Select(s => s!.AsObject())];

    public IReadOnlySet<string> Actions => Statements.SelectMany(s => Many(s["Action"])).ToHashSet(StringComparer.Ordinal);

    public static IEnumerable<string> Many(JsonNode? node) => node switch
    {
        JsonArray a => a.Select(x => x!.GetValue<string>()),
        JsonValue v => [v.GetValue<string>()],
        _ => [],
    };

    [GeneratedRegex(@"\bCall\(""([A-Za-z]+)""")]
    private static partial Regex CallSite();

    public static IReadOnlySet<string> ActionsInAgentSource() =>
        Directory.EnumerateFiles(Repo.PathOf("src", "NodeAgent"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains("/obj/", StringComparison.Ordinal) && !f.Contains("/bin/", StringComparison.Ordinal))
            .SelectMany(f => CallSite().Matches(File.ReadAllText(f)).Select(m => "ec2:" + m.Groups[1].Value))
            .ToHashSet(StringComparer.Ordinal);

    /// <summary>A constant of src/NodeAgent/Ec2/EniTags.cs, so the policy's conditions follow the tags the agent sets.</summary>
    public static string EniTag(string constant)
    {
        var m = Regex.Match(Repo.Read("src", "NodeAgent", "Ec2", "EniTags.cs"), $@"const string {constant} = ""([^""]+)""");
        return m.Success ? m.Groups[1].Value : throw new InvalidDataException($"EniTags.{constant} not found");
    }
}
