using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using BranchEni.Netlink;

namespace BranchEni.Contracts;

/// <summary>Kernel objects written the way `ip rule` / `ip route` print them, so an operator can paste them back; one
/// wording for CHECK's errors, `verify`'s differences and `cleanup`'s plan.</summary>
internal static class PlumbingText
{
    public static string Rule(Rule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        var selector = rule.IifName is { } iif ? $"iif {iif}"
            : rule.From is { } from ? $"from {from.BaseAddress}{Prefix(from)}"
            : rule.To is { } to ? $"to {to.BaseAddress}{Prefix(to)}"
            : "from all";
        return $"rule prio {rule.Priority?.ToString(CultureInfo.InvariantCulture) ?? "0"} {selector} lookup {Table(rule.Table)}";
    }

    /// <summary>`route [type] DEST [via GW] [dev NAME] table T`; the device named by <paramref name="deviceName"/>, or
    /// `#index` when it does not know it (the link is gone).</summary>
    public static string Route(Route route, Func<int, string?> deviceName)
    {
        ArgumentNullException.ThrowIfNull(route);
        ArgumentNullException.ThrowIfNull(deviceName);
        // Like `ip route`: a type other than unicast (the metadata deny route is `unreachable`) leads.
        var type = route.Type is RouteType.Unicast or RouteType.Unspecified ? "" : route.Type.ToString().ToLowerInvariant() + " ";
        var text = $"route {type}{(route.Destination.PrefixLength == 0 ? "default" : route.Destination.ToString())}";
        if (route.Gateway is { } gateway)
        {
            text += $" via {gateway}";
        }

        if (route.OutputIndex is { } index)
        {
            text += $" dev {deviceName(index) ?? "#" + index.ToString(CultureInfo.InvariantCulture)}";
        }

        return text + $" table {Table(route.Table)}";
    }

    public static string Table(uint? table) => table switch
    {
        null => "?",
        RouteTables.Main => "main",
        RouteTables.Local => "local",
        { } t => t.ToString(CultureInfo.InvariantCulture),
    };

    public static string Mac(PhysicalAddress? mac) => mac is null ? "none" : BranchEniAssignment.FormatMac(mac);

    private static string Prefix(IPNetwork network) =>
        network.PrefixLength == 32 ? "" : "/" + network.PrefixLength.ToString(CultureInfo.InvariantCulture);
}
