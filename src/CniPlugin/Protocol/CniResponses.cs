using System.Text.Json;

namespace BranchEni.Cni.Protocol;

/// <summary>Writes the plugin's replies to stdout; the one place exceptions become the spec's error JSON.</summary>
internal static class CniResponses
{
    public static void WriteVersion(Stream stdout, string requestedVersion)
    {
        // Answer in the version we were asked in when we speak it, else in our newest (the caller then sees our list).
        var version = CniVersions.IsSupported(requestedVersion) ? requestedVersion : CniVersions.Latest;

        // Written directly, not through CniJsonContext: VERSION is the bare process start runtimes probe with, and the
        // serializer's first use (type metadata, the default encoder's tables) was a tenth of it (perf, bench "start").
        using (var writer = new Utf8JsonWriter(stdout))
        {
            writer.WriteStartObject();
            writer.WriteString("cniVersion"u8, version);
            writer.WriteStartArray("supportedVersions"u8);
            foreach (var supported in CniVersions.Supported)
            {
                writer.WriteStringValue(supported);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        stdout.WriteByte((byte)'\n');
    }

    public static void WriteError(Stream stdout, string? requestedVersion, CniException error)
    {
        var version = CniVersions.IsSupported(requestedVersion) ? requestedVersion! : CniVersions.Latest;
        var reply = new ErrorReply(version, (int)error.Code, error.Message, error.Details);
        JsonSerializer.Serialize(stdout, reply, CniJsonContext.Default.ErrorReply);
        stdout.WriteByte((byte)'\n');
    }
}
