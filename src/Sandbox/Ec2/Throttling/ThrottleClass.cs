using BranchEni.Sandbox.Ec2.Protocol;

namespace BranchEni.Sandbox.Ec2.Throttling;

/// <summary>EC2's throttling categories: each has its own bucket per account (DESIGN.md §5).</summary>
internal enum ThrottleClass
{
    CreateNetworkInterface,
    DeleteNetworkInterface,
    CreateTags,
    Mutating,
    Describe,
    UnfilteredDescribeNetworkInterfaces,
}

internal static class ThrottleClassifier
{
    public static ThrottleClass Classify(Ec2Request request) => request.Action switch
    {
        "CreateNetworkInterface" => ThrottleClass.CreateNetworkInterface,
        "DeleteNetworkInterface" => ThrottleClass.DeleteNetworkInterface,
        "CreateTags" => ThrottleClass.CreateTags,
        // EC2 puts DescribeNetworkInterfaces without filters, ids or paging into a smaller bucket of its own.
        "DescribeNetworkInterfaces" when !request.Parameters.Keys.Any(k =>
            k.StartsWith("Filter.", StringComparison.Ordinal)
            || k.StartsWith("NetworkInterfaceId.", StringComparison.Ordinal)
            || k == "MaxResults") => ThrottleClass.UnfilteredDescribeNetworkInterfaces,
        _ when request.Action.StartsWith("Describe", StringComparison.Ordinal) => ThrottleClass.Describe,
        _ => ThrottleClass.Mutating,
    };
}
