using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace BranchEni.Cni.Protocol;

/// <summary>An entry of a result's "interfaces" (spec "Success" section).</summary>
internal sealed record ResultInterface
{
    [JsonPropertyName("name")]
    public string? Name { get; init; }

    [JsonPropertyName("mac")]
    public string? Mac { get; init; }

    [JsonPropertyName("mtu")]
    public int? Mtu { get; init; }

    /// <summary>The netns path for interfaces inside the container; null on the host.</summary>
    [JsonPropertyName("sandbox")]
    public string? Sandbox { get; init; }
}

/// <summary>An entry of a result's "ips"; <see cref="Version"/> exists only in 0.3.x / 0.4.0 results.</summary>
internal sealed record ResultIp
{
    [JsonPropertyName("version")]
    public string? Version { get; init; }

    [JsonPropertyName("address")]
    public string? Address { get; init; }

    [JsonPropertyName("gateway")]
    public string? Gateway { get; init; }

    [JsonPropertyName("interface")]
    public int? Interface { get; init; }
}

/// <summary>An entry of a result's "routes" (the 1.1.0 extras are kept so a delegate's result passes through).</summary>
internal sealed record ResultRoute
{
    [JsonPropertyName("dst")]
    public string? Dst { get; init; }

    [JsonPropertyName("gw")]
    public string? Gw { get; init; }

    [JsonPropertyName("mtu")]
    public int? Mtu { get; init; }

    [JsonPropertyName("advmss")]
    public int? Advmss { get; init; }

    [JsonPropertyName("priority")]
    public int? Priority { get; init; }

    [JsonPropertyName("table")]
    public int? Table { get; init; }

    [JsonPropertyName("scope")]
    public int? Scope { get; init; }
}

/// <summary>The success result of ADD, also what arrives as prevResult for CHECK and DEL.</summary>
internal sealed record CniResult
{
    [JsonPropertyName("cniVersion")]
    public string? CniVersion { get; init; }

    [JsonPropertyName("interfaces")]
    public List<ResultInterface>? Interfaces { get; init; }

    [JsonPropertyName("ips")]
    public List<ResultIp>? Ips { get; init; }

    [JsonPropertyName("routes")]
    public List<ResultRoute>? Routes { get; init; }

    /// <summary>Passed through untouched; we never set DNS ourselves.</summary>
    [JsonPropertyName("dns")]
    public JsonElement? Dns { get; init; }

    /// <summary>The same result shaped for <paramref name="version"/>: 0.3.x/0.4.0 tag each ip with its family.</summary>
    public CniResult ForVersion(string version) => this with
    {
        CniVersion = version,
        // A null entry stays null: reshaping is not where a bad result is judged.
        Ips = Ips?.Select(ip => ip is null ? null! : ip with { Version = CniVersions.IpsCarryVersion(version) ? FamilyOf(ip.Address) : null }).ToList(),
    };

    private static string? FamilyOf(string? cidr)
    {
        var slash = cidr?.IndexOf('/', StringComparison.Ordinal) ?? -1;
        return cidr is not null && IPAddress.TryParse(slash < 0 ? cidr : cidr[..slash], out var a)
            ? (a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? "6" : "4")
            : null;
    }
}
