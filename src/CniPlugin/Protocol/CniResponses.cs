using System.Text;
using System.Text.Json;

namespace BranchEni.Cni.Protocol;

/// <summary>Writes the plugin's replies to stdout; the one place exceptions become the spec's error JSON.</summary>
internal static class CniResponses
{
    public static void WriteVersion(Stream stdout, string requestedVersion)
    {
        // Answer in the version we were asked in when we speak it, else in our newest (the caller then sees our list).
        var version = CniVersions.IsSupported(requestedVersion) ? requestedVersion : CniVersions.Latest;

        // Composed from our own version constants (digits and dots, nothing to escape), not through a JSON writer:
        // VERSION is the bare process start runtimes probe with, and the serializer's first use (type metadata) and
        // then the writer's (the default encoder's tables) were each a visible part of it (perf, bench "start").
        var supported = string.Join("\",\"", CniVersions.Supported);
        stdout.Write(Encoding.UTF8.GetBytes($"{{\"cniVersion\":\"{version}\",\"supportedVersions\":[\"{supported}\"]}}\n"));
    }

    public static void WriteError(Stream stdout, string? requestedVersion, CniException error)
    {
        var version = CniVersions.IsSupported(requestedVersion) ? requestedVersion! : CniVersions.Latest;
        var reply = new ErrorReply(version, (int)error.Code, error.Message, error.Details);
        JsonSerializer.Serialize(stdout, reply, CniJsonContext.Default.ErrorReply);
        stdout.WriteByte((byte)'\n');
    }
}
