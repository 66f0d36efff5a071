namespace BranchEni.Cni.Protocol;

/// <summary>The CNI spec versions we speak (DESIGN.md §2: 0.3.1 through 1.1.0).</summary>
internal static class CniVersions
{
    public const string Latest = "1.1.0";

    public static readonly string[] Supported = ["0.3.1", "0.4.0", "1.0.0", "1.1.0"];

    public static bool IsSupported(string? version) => version is not null && Array.IndexOf(Supported, version) >= 0;
}
