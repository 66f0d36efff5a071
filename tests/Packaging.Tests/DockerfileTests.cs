using System.Text.Json.Nodes;
using System.Xml.Linq;
using BranchEni.Packaging.Tests.Support;

namespace BranchEni.Packaging.Tests;

/// <summary>packaging/Dockerfile (no docker here to build it): what it copies in exists, what it publishes lands
/// where the runtime stage copies from, and the binaries end where the DaemonSet runs them.</summary>
public sealed class DockerfileTests
{
    private static readonly Dockerfile File_ = Dockerfile.Load(Repo.Read("packaging", "Dockerfile"));

    private static Dockerfile.Stage Build => File_.Stages.Single(s => s.Name == "build");

    private static Dockerfile.Stage Runtime => File_.Stages[^1];

    [Fact]
    public void The_build_stage_publishes_the_agent_the_cni_and_the_controller_natively_for_linux_x64()
    {
        var publishes = Dockerfile.Publishes(Build).ToDictionary(p => p.Project);
        Assert.Equal(["src/CniPlugin", "src/Controller", "src/NodeAgent"], publishes.Keys.Order());
        foreach (var p in publishes.Values)
        {
            var csproj = Directory.GetFiles(Repo.PathOf(p.Project), "*.csproj").Single();
            Assert.Equal("true", Dockerfile.ProjectProperty(csproj, "PublishAot"));
            Assert.Equal("linux-x64", p.Runtime);
        }

        Assert.Contains(Build.Instructions, i => i.Keyword == "RUN" && i.Arguments.Contains("clang", StringComparison.Ordinal) && i.Arguments.Contains("zlib1g-dev", StringComparison.Ordinal));
    }

    [Fact]
    public void The_build_context_copies_exist_and_cover_every_project_the_two_are_built_from()
    {
        var copied = Dockerfile.Copies(Build).Where(c => c.From is null).SelectMany(c => c.Sources).ToList();
        Assert.All(copied, c => Assert.True(File.Exists(Repo.PathOf(c)) || Directory.Exists(Repo.PathOf(c)), $"{c} is not in the repository"));
        foreach (var shared in new[] { "global.json", "Directory.Build.props", "Directory.Packages.props" })
        {
            Assert.Contains(shared, copied);
        }

        foreach (var publish in Dockerfile.Publishes(Build))
        {
            foreach (var dir in ProjectInputs(Directory.GetFiles(Repo.PathOf(publish.Project), "*.csproj").Single()))
            {
                var relative = Path.GetRelativePath(Repo.Root, dir).Replace('\\', '/') + "/";
                Assert.True(copied.Any(c => relative.StartsWith(c.TrimEnd('/') + "/", StringComparison.Ordinal)), $"{relative} is used by {publish.Project} but not copied");
            }
        }

        var ignored = Repo.Read("packaging", "Dockerfile.dockerignore");
        Assert.DoesNotContain("src", ignored.Split('\n').Where(l => !l.StartsWith('#')), StringComparer.Ordinal);
    }

    [Fact]
    public void The_runtime_stage_takes_every_published_executable_into_the_directory_the_daemonset_runs()
    {
        var outputs = Dockerfile.Publishes(Build)
            .SelectMany(p => Executables(Directory.GetFiles(Repo.PathOf(p.Project), "*.csproj").Single()).Select(name => (File: p.Output.TrimEnd('/') + "/" + name, p.Project)))
            .ToDictionary(o => o.File, o => o.Project);
        var copies = Dockerfile.Copies(Runtime).Where(c => c.From == "build").ToList();
        Assert.Equal(outputs.Keys.Order(), copies.Select(c => Assert.Single(c.Sources)).Order());
        Assert.All(copies, c => Assert.Equal(Path.GetFileName(c.Sources[0]), Path.GetFileName(c.Destination)));

        var agent = copies.Single(c => Path.GetFileName(c.Sources[0]) == "branch-eni-agent").Destination;
        var cni = copies.Single(c => Path.GetFileName(c.Sources[0]) == "branch-eni").Destination;
        Assert.Equal("src/NodeAgent", outputs[copies.Single(c => c.Destination == agent).Sources[0]]);
        Assert.Equal("src/CniPlugin", outputs[copies.Single(c => c.Destination == cni).Sources[0]]);
        Assert.Single(copies.Select(c => Path.GetDirectoryName(c.Destination)).Distinct());

        var manifests = Manifests.Kustomize();
        Assert.Equal(agent, manifests.Command[0]);
        // The agent installs <its own directory>/branch-eni unless BRANCH_ENI_CNI_BINARY says otherwise.
        Assert.False(manifests.PlainEnv.ContainsKey("BRANCH_ENI_CNI_BINARY"));
        Assert.Equal(Path.Combine(Path.GetDirectoryName(agent)!, "branch-eni"), cni);

        var entrypoint = Runtime.Instructions.Single(i => i.Keyword == "ENTRYPOINT").Arguments;
        Assert.Equal(agent, JsonNode.Parse(entrypoint)![0]!.GetValue<string>());
        Assert.StartsWith("debian:", Runtime.From, StringComparison.Ordinal);
        Assert.EndsWith("-slim", Runtime.From, StringComparison.Ordinal);
    }

    [Fact]
    public void The_parser_reads_continuations_stages_and_publish_options()
    {
        var parsed = Dockerfile.Load("FROM a:1 AS build\nRUN x \\\n # note\n && dotnet publish src/P -c Release -r linux-x64 -o /out/p\nFROM b\nCOPY --from=build /out/p/p /bin/p\n");
        Assert.Equal(["a:1", "b"], parsed.Stages.Select(s => s.From));
        var publish = Assert.Single(Dockerfile.Publishes(parsed.Stages[0]));
        Assert.Equal(new Dockerfile.Publish("src/P", "linux-x64", "/out/p"), publish);
        var copy = Assert.Single(Dockerfile.Copies(parsed.Stages[1]));
        Assert.Equal(("/out/p/p", "/bin/p", "build"), (copy.Sources[0], copy.Destination, copy.From));
    }

    /// <summary>The executables `dotnet publish` of a project leaves in its output: its own assembly name and those of
    /// projects its targets publish into the same directory (an MSBuild task with Targets="Publish").</summary>
    private static IEnumerable<string> Executables(string csproj)
    {
        yield return Dockerfile.ProjectProperty(csproj, "AssemblyName")!;
        var dir = Path.GetDirectoryName(csproj)!;
        foreach (var task in XDocument.Load(csproj).Descendants("MSBuild").Where(t => t.Attribute("Targets")?.Value == "Publish"))
        {
            foreach (var inner in Executables(Path.GetFullPath(Path.Combine(dir, task.Attribute("Projects")!.Value))))
            {
                yield return inner;
            }
        }
    }

    /// <summary>Directories a project compiles from: its own, its ProjectReferences' (recursively) and linked Compile
    /// items outside it.</summary>
    private static IEnumerable<string> ProjectInputs(string csproj)
    {
        var dir = Path.GetDirectoryName(csproj)!;
        yield return dir;
        var doc = XDocument.Load(csproj);
        foreach (var include in doc.Descendants("Compile").Select(c => c.Attribute("Include")?.Value).OfType<string>().SelectMany(i => i.Split(';')))
        {
            // "../X/**/*.cs" names folder ../X; "../X/F.cs" names file F.cs in ../X.
            var path = Path.GetFullPath(Path.Combine(dir, include.Contains('*', StringComparison.Ordinal) ? include.Split('*')[0] + "any" : include));
            yield return Path.GetDirectoryName(path)!;
        }

        foreach (var reference in doc.Descendants("ProjectReference").Select(r => r.Attribute("Include")!.Value)
            .Concat(doc.Descendants("MSBuild").Select(t => t.Attribute("Projects")!.Value)))
        {
            foreach (var inner in ProjectInputs(Path.GetFullPath(Path.Combine(dir, reference))))
            {
                yield return inner;
            }
        }
    }
}
