using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using BranchEni.Sandbox.Ec2.Model;
using Microsoft.AspNetCore.Http;

namespace BranchEni.Sandbox.Imds;

/// <summary>
/// IMDSv2 for one instance of the emulated account: PUT /latest/api/token with a TTL header hands out a token;
/// every GET needs it (401 otherwise). Answers are read from the live EC2 state, so attachments show up and
/// disappear as the EC2 API changes them, as on a real instance. Without <paramref name="instanceId"/> it describes the
/// instance the admin endpoint selects; with it, always that one (the fabric's 169.254.169.254 answers as the node).
/// </summary>
internal sealed class ImdsService(Ec2State state, string? instanceId = null)
{
    public const string TokenHeader = "X-aws-ec2-metadata-token";
    public const string TtlHeader = "X-aws-ec2-metadata-token-ttl-seconds";
    private const int MaxTtlSeconds = 21600;

    private readonly ConcurrentDictionary<string, DateTimeOffset> _tokens = new(StringComparer.Ordinal);

    public async Task HandleAsync(HttpContext context)
    {
        var (status, body, contentType) = Serve(context);
        context.Response.StatusCode = status;
        context.Response.ContentType = contentType;
        await context.Response.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
    }

    private (int Status, string Body, string ContentType) Serve(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "/";
        if (context.Request.Headers.ContainsKey("X-Forwarded-For"))
        {
            // IMDSv2 refuses proxied requests.
            return (403, "Forbidden", "text/plain");
        }

        if (path == "/latest/api/token")
        {
            return HttpMethods.IsPut(context.Request.Method) ? IssueToken(context) : (405, "Method Not Allowed", "text/plain");
        }

        if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
        {
            return (405, "Method Not Allowed", "text/plain");
        }

        if (!context.Request.Headers.TryGetValue(TokenHeader, out var token)
            || !_tokens.TryGetValue(token.ToString(), out var expiry) || expiry < DateTimeOffset.UtcNow)
        {
            return (401, "Unauthorized", "text/plain");
        }

        string? answer;
        lock (state.Gate)
        {
            answer = Lookup(path);
        }

        return answer is null ? (404, "Not Found", "text/plain") : (200, answer, path.EndsWith("/document", StringComparison.Ordinal) ? "application/json" : "text/plain");
    }

    private (int, string, string) IssueToken(HttpContext context)
    {
        if (!int.TryParse(context.Request.Headers[TtlHeader].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var ttl)
            || ttl is < 1 or > MaxTtlSeconds)
        {
            return (400, "Bad Request", "text/plain");
        }

        var token = Convert.ToBase64String(RandomNumberGenerator.GetBytes(42));
        _tokens[token] = DateTimeOffset.UtcNow.AddSeconds(ttl);
        context.Response.Headers[TtlHeader] = ttl.ToString(CultureInfo.InvariantCulture);
        return (200, token, "text/plain");
    }

    private string? Lookup(string path)
    {
        if ((instanceId ?? state.ImdsInstanceId) is not { } id || !state.Instances.Any(i => i.Id == id && i.Running))
        {
            return null;
        }

        var instance = state.InstanceById(id);
        var primary = state.Eni(instance.PrimaryEniId);
        return path switch
        {
            "/latest" or "/latest/" => "dynamic\nmeta-data",
            "/latest/dynamic/instance-identity/document" => IdentityDocument(instance, primary),
            _ when path.StartsWith("/latest/meta-data", StringComparison.Ordinal) => MetaData(instance, primary, path["/latest/meta-data".Length..].TrimStart('/')),
            _ => null,
        };
    }

    private string? MetaData(Instance instance, NetworkInterface primary, string path) => path switch
    {
        "" => "ami-id\nhostname\ninstance-id\ninstance-type\nlocal-hostname\nlocal-ipv4\nmac\nnetwork/\nplacement/\nservices/",
        "ami-id" => instance.ImageId,
        "instance-id" => instance.Id,
        "instance-type" => instance.InstanceType,
        "mac" => primary.MacAddress,
        "local-ipv4" => primary.PrivateIp.ToString(),
        "hostname" or "local-hostname" => HostName(primary),
        "placement" or "placement/" => "availability-zone\nregion",
        "placement/availability-zone" => instance.AvailabilityZone,
        "placement/region" => state.Region,
        "services/domain" => "amazonaws.com",
        "services/partition" => "aws",
        "network" or "network/" => "interfaces/",
        "network/interfaces" or "network/interfaces/" => "macs/",
        "network/interfaces/macs" or "network/interfaces/macs/" =>
            string.Join('\n', state.AttachedTo(instance.Id).Select(e => e.MacAddress + "/")),
        _ when path.StartsWith("network/interfaces/macs/", StringComparison.Ordinal) => Interface(instance, path["network/interfaces/macs/".Length..]),
        _ => null,
    };

    private string? Interface(Instance instance, string rest)
    {
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var mac = (slash < 0 ? rest : rest[..slash]).ToLowerInvariant();
        var field = slash < 0 ? "" : rest[(slash + 1)..];
        var eni = state.AttachedTo(instance.Id).FirstOrDefault(e => e.MacAddress == mac);
        if (eni is null)
        {
            return null;
        }

        return field switch
        {
            "" => "device-number\ninterface-id\nlocal-hostname\nlocal-ipv4s\nmac\nowner-id\nsecurity-group-ids\nsubnet-id\nsubnet-ipv4-cidr-block\nvpc-id\nvpc-ipv4-cidr-block\nvpc-ipv4-cidr-blocks",
            "device-number" => eni.Attachment!.DeviceIndex.ToString(CultureInfo.InvariantCulture),
            "interface-id" => eni.Id,
            "local-hostname" => HostName(eni),
            "local-ipv4s" => eni.PrivateIp.ToString(),
            "mac" => eni.MacAddress,
            "owner-id" => state.AccountId,
            "security-group-ids" => string.Join('\n', eni.GroupIds),
            "subnet-id" => eni.Subnet.Id,
            "subnet-ipv4-cidr-block" => eni.Subnet.CidrBlock,
            "vpc-id" => eni.Subnet.VpcId,
            "vpc-ipv4-cidr-block" or "vpc-ipv4-cidr-blocks" => state.Vpc.CidrBlock,
            _ => null,
        };
    }

    private string HostName(NetworkInterface eni) =>
        $"ip-{eni.PrivateIp.ToString().Replace('.', '-')}.{state.Region}.compute.internal";

    private string IdentityDocument(Instance instance, NetworkInterface primary) =>
        JsonSerializer.Serialize(new IdentityDocument
        {
            AccountId = state.AccountId,
            AvailabilityZone = instance.AvailabilityZone,
            ImageId = instance.ImageId,
            InstanceId = instance.Id,
            InstanceType = instance.InstanceType,
            PendingTime = instance.LaunchTime.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            PrivateIp = primary.PrivateIp.ToString(),
            Region = state.Region,
        }, ImdsJsonContext.Default.IdentityDocument);
}

internal sealed class IdentityDocument
{
    public string AccountId { get; set; } = "";
    public string Architecture { get; set; } = "x86_64";
    public string AvailabilityZone { get; set; } = "";
    public string ImageId { get; set; } = "";
    public string InstanceId { get; set; } = "";
    public string InstanceType { get; set; } = "";
    public string PendingTime { get; set; } = "";
    public string PrivateIp { get; set; } = "";
    public string Region { get; set; } = "";
    public string Version { get; set; } = "2017-09-30";
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(IdentityDocument))]
internal sealed partial class ImdsJsonContext : JsonSerializerContext;
