namespace BranchEni.Sandbox.Ec2.Model;

/// <summary>Per instance type: how many interfaces (device indexes) it takes and how many branch ENIs one trunk carries.</summary>
internal sealed record InstanceTypeLimits(int MaxInterfaces, int MaxBranches);

/// <summary>
/// The emulator's own copy of EC2's published limits (the agent keeps its table apart on purpose: the sandbox
/// stands for AWS, so a disagreement shows up as a test failure rather than being hidden by shared code).
/// Seeds may add or override types.
/// </summary>
internal static class InstanceTypes
{
    public static Dictionary<string, InstanceTypeLimits> Defaults() => new(StringComparer.Ordinal)
    {
        ["m5.large"] = new(3, 9),
        ["m5.xlarge"] = new(4, 18),
        ["m5.2xlarge"] = new(4, 38),
        ["m5.4xlarge"] = new(8, 54),
        ["m5.24xlarge"] = new(15, 107),
        ["c5.large"] = new(3, 9),
        ["c5.4xlarge"] = new(8, 54),
        ["m6i.large"] = new(3, 9),
        ["g4dn.xlarge"] = new(3, 39),
        ["p5.48xlarge"] = new(64, 120),
        ["t3.medium"] = new(3, 0),
        ["t3.large"] = new(3, 0),
        ["t2.medium"] = new(3, 0),
        ["m4.large"] = new(2, 0),
    };
}
