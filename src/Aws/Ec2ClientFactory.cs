using Amazon;
using Amazon.EC2;

namespace BranchEni.Aws;

/// <summary>
/// The EC2 client as the agent and the controller build it: credentials from the SDK's default chain, the SDK's own
/// retries off (<see cref="Ec2CallPolicy"/> is the discipline; hidden retries would bypass its buckets and double
/// count), and an endpoint override (BRANCH_ENI_EC2_ENDPOINT) that is how the sandbox and tests point it at the emulator.
/// </summary>
public static class Ec2ClientFactory
{
    /// <param name="endpoint">Endpoint override; null: the region's real endpoint.</param>
    /// <param name="region">Region; null: the SDK's own region chain (AWS_REGION, profile, then IMDS).</param>
    public static IAmazonEC2 Create(Uri? endpoint, string? region)
    {
        var config = new AmazonEC2Config { MaxErrorRetry = 0 };
        if (endpoint is not null)
        {
            config.ServiceURL = endpoint.ToString();
            if (region is not null)
            {
                config.AuthenticationRegion = region;
            }
        }
        else if (region is not null)
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(region);
        }

        return new AmazonEC2Client(config);
    }
}
