using System.Net;
using System.Text.Json;
using BranchEni.Cni.Config;
using BranchEni.Contracts;

namespace BranchEni.Cni.Protocol;

/// <summary>Decodes and checks `prevResult` (spec "Chained plugins"): every field DEL or CHECK could act on.</summary>
internal static class PrevResultReader
{
    public static CniResult? Read(JsonElement? element)
    {
        if (element is not { } value)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            throw Invalid("prevResult", "must be an object");
        }

        CniResult result;
        try
        {
            result = CniJsonCodec.ReadResult(value)!;
        }
        catch (JsonException e)
        {
            throw new CniException(CniErrorCode.DecodeFailure, $"prevResult does not decode at {e.Path ?? "$"}", e.Message);
        }

        var interfaces = result.Interfaces ?? [];
        for (var i = 0; i < interfaces.Count; i++)
        {
            var entry = interfaces[i] ?? throw Invalid($"prevResult.interfaces[{i}]", "is null");
            if (PluginConfig.InterfaceNameProblem(entry.Name ?? "") is { } problem)
            {
                throw Invalid($"prevResult.interfaces[{i}].name", problem);
            }

            if (entry.Mac is { Length: > 0 } mac)
            {
                Field($"prevResult.interfaces[{i}].mac", () => BranchEniParser.ParseMac(mac, "mac"));
            }

            if (entry.Sandbox is { } sandbox && (sandbox.Length == 0 || sandbox[0] != '/'))
            {
                throw Invalid($"prevResult.interfaces[{i}].sandbox", $"'{sandbox}' is not an absolute path");
            }
        }

        var ips = result.Ips ?? [];
        for (var i = 0; i < ips.Count; i++)
        {
            var ip = ips[i] ?? throw Invalid($"prevResult.ips[{i}]", "is null");
            if (ip.Address is null || !IPNetwork.TryParse(ip.Address, out _) || !ip.Address.Contains('/', StringComparison.Ordinal))
            {
                throw Invalid($"prevResult.ips[{i}].address", $"'{ip.Address}' is not an address in CIDR form");
            }

            if (ip.Gateway is not null && !IPAddress.TryParse(ip.Gateway, out _))
            {
                throw Invalid($"prevResult.ips[{i}].gateway", $"'{ip.Gateway}' is not an IP address");
            }

            if (ip.Interface is { } index && (index < 0 || index >= interfaces.Count))
            {
                throw Invalid($"prevResult.ips[{i}].interface", $"{index} is not an index into interfaces");
            }
        }

        return result;
    }

    private static void Field(string field, Action check)
    {
        try
        {
            check();
        }
        catch (BranchEniFormatException e)
        {
            throw Invalid(field, e.Problem);
        }
    }

    private static CniException Invalid(string field, string problem) => new(CniErrorCode.InvalidNetworkConfig, $"{field} {problem}");
}
