using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace BranchEni.Packaging.Tests.Support;

/// <summary>packaging/Dockerfile read as its instructions: line continuations joined, comments dropped, grouped by stage.</summary>
internal sealed partial class Dockerfile
{
    public sealed record Instruction(string Keyword, string Arguments);

    public sealed record Stage(string From, string? Name, IReadOnlyList<Instruction> Instructions);

    public sealed record Publish(string Project, string? Runtime, string Output);

    public IReadOnlyList<Stage> Stages { get; }

    private Dockerfile(IReadOnlyList<Stage> stages) => Stages = stages;

    public static Dockerfile Load(string text)
    {
        var joined = Regex.Replace(text.Replace("\r", "", StringComparison.Ordinal), @"\\\n(\s*#[^\n]*\n)*", " ");
        var stages = new List<Stage>();
        List<Instruction>? current = null;
        foreach (var line in joined.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')))
        {
            var parts = line.Split(' ', 2);
            var instruction = new Instruction(parts[0].ToUpperInvariant(), parts.Length > 1 ? parts[1].Trim() : "");
            if (instruction.Keyword == "FROM")
            {
                var from = FromLine().Match(instruction.Arguments);
                current = [];
                stages.Add(new Stage(from.Groups[1].Value, from.Groups[2].Success ? from.Groups[2].Value : null, current));
            }
            else
            {
                (current ?? throw new InvalidDataException($"'{line}' before any FROM")).Add(instruction);
            }
        }

        return new Dockerfile(stages);
    }

    [GeneratedRegex(@"^(\S+)(?:\s+AS\s+(\S+))?$", RegexOptions.IgnoreCase)]
    private static partial Regex FromLine();

    [GeneratedRegex(@"dotnet publish (\S+)((?:\s+-{1,2}[a-zA-Z-]+(?:\s+[^-&\s]\S*)?)*)")]
    private static partial Regex PublishCommand();

    /// <summary>Every `dotnet publish` in a stage's RUN lines, with its -r and -o.</summary>
    public static IEnumerable<Publish> Publishes(Stage stage) =>
        stage.Instructions.Where(i => i.Keyword == "RUN").SelectMany(i => PublishCommand().Matches(i.Arguments)).Select(m =>
        {
            var options = Regex.Matches(m.Groups[2].Value, @"(-{1,2}[a-zA-Z-]+)(?:\s+([^-&\s]\S*))?").ToDictionary(o => o.Groups[1].Value, o => o.Groups[2].Value);
            return new Publish(m.Groups[1].Value, options.GetValueOrDefault("-r") ?? options.GetValueOrDefault("--runtime"),
                options.GetValueOrDefault("-o") ?? options.GetValueOrDefault("--output") ?? throw new InvalidDataException($"'{m.Value}' has no -o"));
        });

    /// <summary>(sources, destination, --from stage) of each COPY.</summary>
    public static IEnumerable<(IReadOnlyList<string> Sources, string Destination, string? From)> Copies(Stage stage) =>
        stage.Instructions.Where(i => i.Keyword == "COPY").Select(i =>
        {
            var words = i.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList();
            var from = words.FirstOrDefault(w => w.StartsWith("--from=", StringComparison.Ordinal));
            words.RemoveAll(w => w.StartsWith("--", StringComparison.Ordinal));
            return ((IReadOnlyList<string>)words[..^1], words[^1], from?["--from=".Length..]);
        });

    /// <summary>An MSBuild property of a project file (the first definition).</summary>
    public static string? ProjectProperty(string csproj, string name) =>
        XDocument.Load(csproj).Descendants(name).FirstOrDefault()?.Value;
}
