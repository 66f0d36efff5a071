using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace BranchEni.Packaging.Tests.Support;

/// <summary>packaging/iam-policy.json, and the EC2 actions the agent's source calls (every call goes through
/// <c>Ec2Gateway.Call("Action", …)</c>).</summary>
internal sealed partial class IamPolicy(JsonObject document)
{
    public JsonObject Document { get; } = document;

    public static IamPolicy Load() => new(JsonNode.Parse(Repo.Read("packaging", "iam-policy.json"))!.AsObject());

    /// <summary>packaging/iam-policy-controller.json: the controller's own (membership reads for companion policies).</summary>
    public static IamPolicy LoadController() => new(JsonNode.Parse(Repo.Read("packaging", "iam-policy-controller.json"))!.AsObject());

    [GeneratedRegex(@"\bCallAsync\(""([A-Za-z]+)""")]
    private static partial Regex PolicyCallSite();

    /// <summary>The EC2 actions the controller's source calls (through <c>Ec2CallPolicy.CallAsync("Action", …)</c>).</summary>
    public static IReadOnlySet<string> ActionsInControllerSource() =>
        Directory.EnumerateFiles(Repo.PathOf("src", "Controller"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains("/obj/", StringComparison.Ordinal) && !f.Contains("/bin/", StringComparison.Ordinal))
            .SelectMany(f => PolicyCallSite().Matches(File.ReadAllText(f)).Select(m => "ec2:" + m.Groups[1].Value))
            .ToHashSet(StringComparer.Ordinal);

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

    /// <summary>A constant of src/Aws/EniTags.cs, so the policy's conditions follow the tags the agent sets.</summary>
    public static string EniTag(string constant)
    {
        var m = Regex.Match(Repo.Read("src", "Aws", "EniTags.cs"), $@"const string {constant} = ""([^""]+)""");
        return m.Success ? m.Groups[1].Value : throw new InvalidDataException($"EniTags.{constant} not found");
    }
}
