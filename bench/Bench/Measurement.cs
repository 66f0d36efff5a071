namespace BranchEni.Bench;

/// <summary>
/// One row of the report: our time against a reference measured in the same run, and the aim for the ratio.
/// A row without a reference (an absolute aim such as "start in 2 ms") has <see cref="ReferenceMs"/> null.
/// </summary>
internal sealed record Measurement(
    string Name, double OursMs, string ReferenceName, double? ReferenceMs, double? AimRatio, double? AimAbsoluteMs)
{
    public double? Ratio => ReferenceMs is > 0 ? OursMs / ReferenceMs : null;

    public bool MeetsAim =>
        (AimRatio is null || Ratio is null || Ratio <= AimRatio) && (AimAbsoluteMs is null || OursMs <= AimAbsoluteMs);

    public string AimText => (AimRatio, AimAbsoluteMs) switch
    {
        ({ } r, { } a) => $"<= {r:0.##}x, <= {a:0.##} ms",
        ({ } r, null) => $"<= {r:0.##}x",
        (null, { } a) => $"<= {a:0.##} ms",
        _ => "-",
    };
}
