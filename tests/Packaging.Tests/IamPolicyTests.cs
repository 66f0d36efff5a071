using System.Text.Json.Nodes;
using BranchEni.Packaging.Tests.Support;

namespace BranchEni.Packaging.Tests;

/// <summary>packaging/iam-policy.json grants the agent's EC2 calls and, where EC2 evaluates tags, only on ENIs carrying
/// the agent's owner tag (src/Aws/EniTags.cs). The run-time half (actions == calls observed from the real
/// agent) is in <see cref="AgentRunTests"/>.</summary>
public sealed class IamPolicyTests
{
    private static readonly IamPolicy Policy = IamPolicy.Load();
    private static readonly string OwnerKey = IamPolicy.EniTag("Owner");
    private static readonly string OwnerValue = IamPolicy.EniTag("OwnerValue");

    [Fact]
    public void Actions_are_the_agents_ec2_calls_plus_create_tags_for_tagging_on_create()
    {
        Assert.Equal(IamPolicy.ActionsInAgentSource().Append("ec2:CreateTags").Order(), Policy.Actions.Order());
        Assert.Equal("2012-10-17", Policy.Document["Version"]!.GetValue<string>());
        Assert.All(Policy.Statements, s => Assert.Equal("Allow", s["Effect"]!.GetValue<string>()));
        Assert.All(Policy.Statements, s => Assert.NotEmpty(IamPolicy.Many(s["Resource"])));
    }

    [Fact]
    public void Changing_deleting_and_attaching_enis_is_limited_to_enis_tagged_as_ours()
    {
        foreach (var action in new[] { "ec2:DeleteNetworkInterface", "ec2:AttachNetworkInterface", "ec2:ModifyNetworkInterfaceAttribute" })
        {
            foreach (var s in Granting(action).Where(s => Resources(s).Any(IsEni)))
            {
                Assert.Equal(OwnerValue, Condition(s, "StringEquals", $"ec2:ResourceTag/{OwnerKey}"));
            }

            Assert.DoesNotContain(Granting(action), s => Resources(s).Contains("*"));
        }
    }

    [Fact]
    public void Enis_can_only_be_created_with_our_owner_tag_and_tags_only_set_while_creating_them()
    {
        var createOnEni = Assert.Single(Granting("ec2:CreateNetworkInterface"), s => Resources(s).Any(IsEni));
        Assert.Equal(OwnerValue, Condition(createOnEni, "StringEquals", $"aws:RequestTag/{OwnerKey}"));
        Assert.DoesNotContain(Granting("ec2:CreateNetworkInterface"), s => Resources(s).Contains("*"));

        var tag = Assert.Single(Granting("ec2:CreateTags"));
        Assert.Equal("CreateNetworkInterface", Condition(tag, "StringEquals", "ec2:CreateAction"));
        Assert.Equal(OwnerValue, Condition(tag, "StringEquals", $"aws:RequestTag/{OwnerKey}"));
        Assert.All(Resources(tag), r => Assert.True(IsEni(r), r));
    }

    [Fact]
    public void Only_describe_calls_and_the_trunk_association_calls_apply_to_every_resource()
    {
        var everywhere = Policy.Statements.Where(s => Resources(s).Contains("*")).SelectMany(s => IamPolicy.Many(s["Action"])).ToHashSet();
        Assert.All(everywhere, a => Assert.True(a.StartsWith("ec2:Describe", StringComparison.Ordinal)
            || a is "ec2:AssociateTrunkInterface" or "ec2:DisassociateTrunkInterface", a));
    }

    private static IEnumerable<JsonObject> Granting(string action) => Policy.Statements.Where(s => IamPolicy.Many(s["Action"]).Contains(action));

    private static IEnumerable<string> Resources(JsonObject s) => IamPolicy.Many(s["Resource"]);

    [Fact]
    public void The_controllers_policy_grants_exactly_its_ec2_calls_and_deletes_only_enis_tagged_ours()
    {
        var controller = IamPolicy.LoadController();
        Assert.Equal(["ec2:DeleteNetworkInterface", "ec2:DescribeInstances", "ec2:DescribeNetworkInterfaces", "ec2:DescribeTrunkInterfaceAssociations"],
            IamPolicy.ActionsInControllerSource().Order());
        Assert.Equal(IamPolicy.ActionsInControllerSource().Order(), controller.Actions.Order());
        Assert.All(controller.Statements, s => Assert.Equal("Allow", s["Effect"]!.GetValue<string>()));

        // Its only write, the cleanup's delete, is limited to ENIs carrying the agents' owner tag.
        var writes = controller.Statements.Where(s => IamPolicy.Many(s["Action"]).Any(a => !a.StartsWith("ec2:Describe", StringComparison.Ordinal))).ToList();
        var delete = Assert.Single(writes);
        Assert.Equal(["ec2:DeleteNetworkInterface"], IamPolicy.Many(delete["Action"]));
        Assert.True(IsEni(delete["Resource"]!.GetValue<string>()));
        Assert.Equal(IamPolicy.EniTag("OwnerValue"), Condition(delete, "StringEquals", $"ec2:ResourceTag/{IamPolicy.EniTag("Owner")}"));
    }

    private static bool IsEni(string arn) => arn.EndsWith(":network-interface/*", StringComparison.Ordinal);

    private static string? Condition(JsonObject s, string op, string key) => s["Condition"]?[op]?[key]?.GetValue<string>();
}
