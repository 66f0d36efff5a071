using BranchEni.Agent.Configuration;

namespace BranchEni.Agent.Tests.Configuration;

public sealed class InstanceLimitsTests
{
    [Theory]
    [InlineData("m5.large", 3, 9)]
    [InlineData("m5.xlarge", 4, 18)]
    [InlineData("m5.2xlarge", 4, 38)]
    [InlineData("m5.4xlarge", 8, 54)]
    [InlineData("c5.4xlarge", 8, 54)]
    [InlineData("m5.24xlarge", 15, 107)]
    [InlineData("c5.large", 3, 9)]
    [InlineData("m6i.large", 3, 9)]
    [InlineData("g4dn.xlarge", 3, 39)]
    public void The_built_in_table_holds_the_design_values(string type, int interfaces, int branches)
    {
        var limit = InstanceLimits.Load(null).Find(type)!;
        Assert.Equal(interfaces, limit.Interfaces);
        Assert.Equal(branches, limit.Branches);
        Assert.True(limit.SupportsTrunking);
    }

    [Fact]
    public void P5_has_120_branches_and_no_interface_count()
    {
        var limit = InstanceLimits.Load(null).Find("p5.48xlarge")!;
        Assert.Equal(120, limit.Branches);
        Assert.Null(limit.Interfaces);
    }

    [Theory]
    [InlineData("t3.medium")]
    [InlineData("t3.2xlarge")]
    [InlineData("t2.micro")]
    [InlineData("m4.large")]
    public void Family_wildcards_mark_non_trunking_types(string type) =>
        Assert.False(InstanceLimits.Load(null).Find(type)!.SupportsTrunking);

    [Fact]
    public void An_unknown_type_is_not_guessed() => Assert.Null(InstanceLimits.Load(null).Find("z9.large"));

    [Fact]
    public void A_configuration_file_adds_and_overrides_types()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, """{"types": {"z9.large": {"interfaces": 2, "branches": 5}, "m5.large": {"interfaces": 3, "branches": 4}}}""");
            var limits = InstanceLimits.Load(file);
            Assert.Equal(5, limits.Find("z9.large")!.Branches);
            Assert.Equal(4, limits.Find("m5.large")!.Branches);
            Assert.Equal(18, limits.Find("m5.xlarge")!.Branches);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("""{"types": {"x.large": {"branches": 5000}}}""", "\"x.large\" needs branches in 0..4094")]
    [InlineData("""{"types": [1]}""", "is not an instance limits table")]
    [InlineData("""{}""", "has no \"types\" object")]
    public void A_bad_configuration_file_is_refused(string json, string message)
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, json);
            var e = Assert.Throws<OptionsException>(() => InstanceLimits.Load(file));
            Assert.Contains(message, e.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
