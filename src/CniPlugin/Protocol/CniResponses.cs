using System.Text.Json;

namespace BranchEni.Cni.Protocol;

/// <summary>Writes the plugin's replies to stdout; the one place exceptions become the spec's error JSON.</summary>
internal static class CniResponses
{
    public static void WriteVersion(Stream stdout, string requestedVersion)
    {
        // Answer in the version we were asked in when we speak it, else in our newest (the caller then sees our list).
        var version = CniVersions.IsSupported(requestedVersion) ? requestedVersion : CniVersions.Latest;
        JsonSerializer.Serialize(stdout, new VersionReply(version, CniVersions.Supported), CniJsonContext.Default.VersionReply);
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
