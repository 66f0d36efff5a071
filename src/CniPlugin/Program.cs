using System.Text.Json;
using BranchEni.Cni.Commands;
using BranchEni.Cni.Config;
using BranchEni.Cni.Logging;
using BranchEni.Cni.Protocol;
using BranchEni.Netlink;
using Serilog;

namespace BranchEni.Cni;

/// <summary>Entry point: reads CNI_COMMAND and the config on stdin, answers on stdout, exits non-zero on error.</summary>
internal static class Program
{
    private static int Main()
    {
        using var stdin = Console.OpenStandardInput();
        using var stdout = new StdoutStream();
        // Only the spec's variables: copying the whole environment into a table was a visible part of a call's start.
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in CniEnvironment.VariableNames)
        {
            if (Environment.GetEnvironmentVariable(name) is { } value)
            {
                env[name] = value;
            }
        }

        return Run(env, stdin, stdout);
    }

    /// <summary>VERSION-style entry kept for callers that only set the command.</summary>
    internal static int Run(string? command, Stream stdin, Stream stdout) =>
        Run(command is null ? new Dictionary<string, string>() : new Dictionary<string, string> { ["CNI_COMMAND"] = command }, stdin, stdout);

    /// <summary>One invocation; the only place an exception becomes the spec's error JSON.</summary>
    internal static int Run(IReadOnlyDictionary<string, string> variables, Stream stdin, Stream stdout)
    {
        string? requestedVersion = null;
        Serilog.Core.Logger? log = null;
        try
        {
            var command = variables.TryGetValue("CNI_COMMAND", out var c) && c.Length > 0 ? c : null;
            var input = ReadAll(stdin);
            requestedVersion = ProbeVersion(input);
            switch (command)
            {
                case "VERSION":
                    CniResponses.WriteVersion(stdout, requestedVersion ?? CniVersions.Latest);
                    return 0;
                case "ADD" or "DEL" or "CHECK" or "STATUS" or "GC":
                    var env = CniEnvironment.From(command, variables);
                    var config = PluginConfig.Parse(input);
                    log = PluginLog.Create(config.LogFile, config.LogLevel);
                    var result = new CniCommands(config, env, log).Execute();
                    if (result is not null)
                    {
                        CniJsonCodec.WriteResult(stdout, result);
                        stdout.WriteByte((byte)'\n');
                    }

                    log.Debug("{Command} {ContainerId} done", command, env.ContainerId);
                    return 0;
                case null:
                    throw new CniException(CniErrorCode.InvalidEnvironment, "CNI_COMMAND is not set");
                default:
                    throw new CniException(CniErrorCode.InvalidEnvironment, $"CNI_COMMAND '{command}' is not a CNI operation");
            }
        }
        catch (Exception e) when (ToCniError(e) is { } error)
        {
            log?.Error("{Command} failed with code {Code}: {Message} {Details}",
                variables.GetValueOrDefault("CNI_COMMAND"), (int)error.Code, error.Message, error.Details);
            CniResponses.WriteError(stdout, requestedVersion, error);
            return 1;
        }
        finally
        {
            log?.Dispose();
        }
    }

    /// <summary>Maps each layer's exception to a spec code: ours as thrown, the kernel's as 104, files as 5.</summary>
    private static CniException ToCniError(Exception e) => e switch
    {
        CniException cni => cni,
        NetlinkException netlink => new CniException(CniErrorCode.KernelFailure, netlink.Message),
        IOException or UnauthorizedAccessException => new CniException(CniErrorCode.IoFailure, e.Message),
        _ => new CniException(CniErrorCode.InternalError, $"unexpected {e.GetType().Name}: {e.Message}", e.StackTrace),
    };

    private static byte[] ReadAll(Stream stdin)
    {
        // A network configuration is a few KiB: grow from 4 KiB rather than CopyTo's 80 KiB buffer.
        var buffer = new byte[4096];
        var length = 0;
        int read;
        while ((read = stdin.Read(buffer, length, buffer.Length - length)) > 0)
        {
            length += read;
            if (length == buffer.Length)
            {
                Array.Resize(ref buffer, buffer.Length * 2);
            }
        }

        return buffer.AsSpan(0, length).ToArray();
    }

    /// <summary>The request's cniVersion, or null when there is no config (VERSION may be sent with an empty stdin).</summary>
    private static string? ProbeVersion(byte[] config)
    {
        if (config.AsSpan().Trim(" \t\r\n"u8).IsEmpty)
        {
            return null;
        }

        // Read with Utf8JsonReader rather than CniJsonContext so VERSION never pays the serializer's first use.
        var reader = new Utf8JsonReader(config);
        var path = "$";
        try
        {
            reader.Read();
            if (reader.TokenType == JsonTokenType.Null)
            {
                return null;
            }

            if (reader.TokenType != JsonTokenType.StartObject)
            {
                throw new JsonException($"the network configuration must be a JSON object, not {reader.TokenType}");
            }

            string? version = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isVersion = reader.ValueTextEquals("cniVersion"u8);
                path = isVersion ? "$.cniVersion" : "$";
                reader.Read();
                version = !isVersion ? version : reader.TokenType switch
                {
                    JsonTokenType.String => reader.GetString(),
                    JsonTokenType.Null => null,
                    _ => throw new JsonException($"cniVersion must be a string, not {reader.TokenType}"),
                };
                reader.Skip();
                path = "$";
            }

            reader.Read(); // past the closing brace: anything after it is not JSON either
            return version;
        }
        catch (JsonException e)
        {
            throw new CniException(CniErrorCode.DecodeFailure, $"the network configuration does not decode at {path}", e.Message);
        }
    }
}
