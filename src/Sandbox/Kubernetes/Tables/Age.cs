using System.Globalization;

namespace BranchEni.Sandbox.Kubernetes.Tables;

/// <summary>
/// An object's age as the API server writes it in Table cells (apimachinery's HumanDuration): exact while short, then
/// two units, then one, so "45s", "3m20s", "25m", "5h10m", "2d3h", "400d", "3y20d".
/// </summary>
internal static class Age
{
    public static string Since(string? timestamp, DateTime now) =>
        DateTime.TryParse(timestamp, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var then)
            ? Format(now - then)
            : "<unknown>";

    public static string Format(TimeSpan age)
    {
        var seconds = (long)Math.Floor(age.TotalSeconds);
        if (seconds < -1)
        {
            return "<invalid>";
        }

        if (seconds < 0)
        {
            return "0s";
        }

        var minutes = seconds / 60;
        var hours = minutes / 60;
        var days = hours / 24;
        return (seconds, minutes, hours, days) switch
        {
            (< 120, _, _, _) => $"{seconds}s",
            (_, < 10, _, _) => Two(minutes, "m", seconds % 60, "s"),
            (_, < 180, _, _) => $"{minutes}m",
            (_, _, < 8, _) => Two(hours, "h", minutes % 60, "m"),
            (_, _, < 48, _) => $"{hours}h",
            (_, _, _, < 8) => Two(days, "d", hours % 24, "h"),
            (_, _, _, < 365 * 2) => $"{days}d",
            (_, _, _, < 365 * 8) => Two(days / 365, "y", days % 365, "d"),
            _ => $"{days / 365}y",
        };
    }

    private static string Two(long major, string majorUnit, long minor, string minorUnit) =>
        minor == 0 ? $"{major}{majorUnit}" : $"{major}{majorUnit}{minor}{minorUnit}";
}
