using System.Text.Json;
using BranchEni.Cni.Protocol;

namespace BranchEni.Cni;

/// <summary>Entry point: reads CNI_COMMAND and the config on stdin, answers on stdout, exits non-zero on error.</summary>
internal static class Program
{
    private static int Main()
    {
        using var stdin = Console.OpenStandardInput();
        using var stdout = Console.OpenStandardOutput();
        return Run(Environment.GetEnvironmentVariable("CNI_COMMAND"), stdin, stdout);
    }

    internal static int Run(string? command, Stream stdin, Stream stdout)
    {
        string? requestedVersion = null;
        try
        {
            var config = ReadAll(stdin);
            requestedVersion = ProbeVersion(config);
            switch (command)
            {
                case "VERSION":
                    CniResponses.WriteVersion(stdout, requestedVersion ?? CniVersions.Latest);
                    return 0;
                case "ADD" or "DEL" or "CHECK" or "STATUS" or "GC":
                    throw new CniException(CniErrorCode.NotImplemented, $"{command} is not implemented in this build of branch-eni");
                case null or "":
                    throw new CniException(CniErrorCode.InvalidEnvironment, "CNI_COMMAND is not set");
                default:
                    throw new CniException(CniErrorCode.InvalidEnvironment, $"CNI_COMMAND '{command}' is not a CNI operation");
            }
        }
        catch (CniException e)
        {
            CniResponses.WriteError(stdout, requestedVersion, e);
            return 1;
        }
    }

    private static byte[] ReadAll(Stream stdin)
    {
        using var buffer = new MemoryStream();
        stdin.CopyTo(buffer);
        return buffer.ToArray();
    }

    /// <summary>The request's cniVersion, or null when there is no config (VERSION may be sent with an empty stdin).</summary>
    private static string? ProbeVersion(byte[] config)
    {
        if (config.AsSpan().Trim(" \t\r\n"u8).IsEmpty)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(config, CniJsonContext.Default.VersionProbe)?.CniVersion;
        }
        catch (JsonException e)
        {
            throw new CniException(CniErrorCode.DecodeFailure, "the network configuration on stdin is not valid JSON", e.Message);
        }
    }
}
