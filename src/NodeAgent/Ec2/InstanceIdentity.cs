using System.Net.Http.Headers;

namespace BranchEni.Agent.Ec2;

/// <summary>What the agent learns about its instance from IMDSv2 (the primary interface's view of the VPC).</summary>
internal sealed record InstanceIdentity(
    string InstanceId,
    string InstanceType,
    string Region,
    string PrimaryMac,
    string SubnetId,
    string VpcId,
    IReadOnlyList<string> SecurityGroupIds);

/// <summary>
/// An IMDSv2 reader: PUT /latest/api/token, then GETs with the token header. Plain HttpClient against the endpoint
/// the operator (or the SDK's own AWS_EC2_METADATA_SERVICE_ENDPOINT) names, so tests point it at the sandbox.
/// </summary>
internal sealed class InstanceMetadataClient(HttpClient http, Uri endpoint)
{
    private string? _token;

    public async Task<InstanceIdentity> ReadIdentityAsync(CancellationToken cancellationToken)
    {
        var instanceId = await GetAsync("meta-data/instance-id", cancellationToken).ConfigureAwait(false);
        var instanceType = await GetAsync("meta-data/instance-type", cancellationToken).ConfigureAwait(false);
        var region = await GetAsync("meta-data/placement/region", cancellationToken).ConfigureAwait(false);
        var mac = (await GetAsync("meta-data/mac", cancellationToken).ConfigureAwait(false)).ToLowerInvariant();
        var prefix = $"meta-data/network/interfaces/macs/{mac}/";
        var subnet = await GetAsync(prefix + "subnet-id", cancellationToken).ConfigureAwait(false);
        var vpc = await GetAsync(prefix + "vpc-id", cancellationToken).ConfigureAwait(false);
        var groups = (await GetAsync(prefix + "security-group-ids", cancellationToken).ConfigureAwait(false))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return new InstanceIdentity(instanceId, instanceType, region, mac, subnet, vpc, groups);
    }

    public async Task<string> GetAsync(string path, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            _token ??= await FetchTokenAsync(cancellationToken).ConfigureAwait(false);
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(endpoint, "/latest/" + path));
            request.Headers.Add("X-aws-ec2-metadata-token", _token);
            using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode == System.Net.HttpStatusCode.Unauthorized && attempt == 0)
            {
                // The token expired: fetch a fresh one once.
                _token = null;
                continue;
            }

            if (!response.IsSuccessStatusCode)
            {
                throw new InstanceMetadataException($"IMDS GET /latest/{path} answered {(int)response.StatusCode}");
            }

            var text = (await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false)).Trim();
            return text.Length > 0 ? text : throw new InstanceMetadataException($"IMDS GET /latest/{path} answered nothing");
        }
    }

    private async Task<string> FetchTokenAsync(CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, new Uri(endpoint, "/latest/api/token"));
        request.Headers.Add("X-aws-ec2-metadata-token-ttl-seconds", "21600");
        request.Content = new ByteArrayContent([]);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("text/plain");
        using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new InstanceMetadataException($"IMDSv2 token request to {endpoint} answered {(int)response.StatusCode}");
        }

        return await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
    }
}

internal sealed class InstanceMetadataException(string message) : Exception(message);
