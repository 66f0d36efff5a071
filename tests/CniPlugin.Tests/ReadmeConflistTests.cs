using System.Text.Json.Nodes;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Text;
using BranchEni.Cni.Config;
using BranchEni.Contracts;
using BranchEni.Testing;

namespace BranchEni.Cni.Tests;

/// <summary>The conflists a reader copies from the README are ones the plugin accepts.</summary>
public sealed partial class ReadmeConflistTests
{
    [Fact]
    public void EveryBranchEniEntryInTheReadmeConflistsParsesAsTheRuntimeWouldHandItOver()
    {
        var readme = File.ReadAllText(Path.Combine(RepoPaths.Root, "README.md"));
        var entries = 0;
        foreach (Match block in JsonBlock().Matches(readme))
        {
            var conflist = JsonNode.Parse(block.Groups[1].Value)!.AsObject();
            if (conflist["plugins"] is not JsonArray plugins)
            {
                continue;
            }

            foreach (var plugin in plugins.OfType<JsonObject>().Where(p => (string?)p["type"] == PluginConfig.PluginType))
            {
                // A runtime hands each plugin its entry with the list's cniVersion and name added.
                var entry = plugin.DeepClone().AsObject();
                entry["cniVersion"] = (string?)conflist["cniVersion"];
                entry["name"] = (string?)conflist["name"];
                var config = PluginConfig.Parse(Encoding.UTF8.GetBytes(entry.ToJsonString()));

                Assert.Equal((string?)conflist["name"], config.Name);
                Assert.Equal(plugin["enforcingMode"] is null ? EnforcingMode.Strict : Enum.Parse<EnforcingMode>((string)plugin["enforcingMode"]!, ignoreCase: true), config.EnforcingMode);
                Assert.Equal(plugin["delegate"] is not null, config.Delegate is { ValueKind: JsonValueKind.Object });
                entries++;
            }
        }

        Assert.True(entries >= 2, $"expected the README's two branch-eni examples, found {entries}");
    }

    [GeneratedRegex("```json\\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex JsonBlock();
}
