using System.Globalization;

namespace BranchEni.Bench;

/// <summary>
/// One row of the report: our value against a reference measured in the same run, and the aim for the ratio.
/// A row without a reference (an absolute aim such as "start in 2 ms") has <see cref="Reference"/> null. Values are
/// in <see cref="Unit"/> (milliseconds unless a row measures something else, such as memory in MB).
/// </summary>
internal sealed record Measurement(
    string Name, double Ours, string ReferenceName, double? Reference, double? AimRatio, double? AimAbsolute, string Unit = "ms")
{
    public double? Ratio => Reference is > 0 ? Ours / Reference : null;

    public bool MeetsAim =>
        (AimRatio is null || Ratio is null || Ratio <= AimRatio) && (AimAbsolute is null || Ours <= AimAbsolute);

    public string AimText => (AimRatio, AimAbsolute) switch
    {
        ({ } r, { } a) => $"<= {r:0.##}x, <= {a:0.##} {Unit}",
        ({ } r, null) => $"<= {r:0.##}x",
        (null, { } a) => $"<= {a:0.##} {Unit}",
        _ => "-",
    };

    public string Format(double? value) =>
        value is { } v ? string.Create(CultureInfo.InvariantCulture, $"{v:0.000} {Unit}") : "-";
}
