namespace BranchEni.Cni.Protocol;

/// <summary>The CNI spec versions we speak (DESIGN.md §2: 0.3.1 through 1.1.0).</summary>
internal static class CniVersions
{
    public const string Latest = "1.1.0";

    public static readonly string[] Supported = ["0.3.1", "0.4.0", "1.0.0", "1.1.0"];

    public static bool IsSupported(string? version) => version is not null && Array.IndexOf(Supported, version) >= 0;

    /// <summary>0.3.x and 0.4.0 results carry "version" on each ips entry; 1.x dropped it.</summary>
    public static bool IpsCarryVersion(string version) => !version.StartsWith("1.", StringComparison.Ordinal);

    /// <summary>CHECK arrived in 0.4.0 (spec "CHECK: Check container's networking is as expected").</summary>
    public static bool HasCheck(string version) => version != "0.3.1";

    /// <summary>STATUS and GC arrived in 1.1.0.</summary>
    public static bool HasStatusAndGc(string version) => version == "1.1.0";

    /// <summary>Orders two dotted versions numerically; non-numeric parts compare as 0.</summary>
    public static int Compare(string a, string b)
    {
        var pa = a.Split('.');
        var pb = b.Split('.');
        for (var i = 0; i < Math.Max(pa.Length, pb.Length); i++)
        {
            var x = i < pa.Length && int.TryParse(pa[i], System.Globalization.CultureInfo.InvariantCulture, out var vx) ? vx : 0;
            var y = i < pb.Length && int.TryParse(pb[i], System.Globalization.CultureInfo.InvariantCulture, out var vy) ? vy : 0;
            if (x != y)
            {
                return x.CompareTo(y);
            }
        }

        return 0;
    }
}
