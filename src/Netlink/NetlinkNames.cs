using System.Text;

namespace BranchEni.Netlink;

/// <summary>Checks names before the kernel sees them, so a bad one is a clear ArgumentException that changes nothing.</summary>
internal static class NetlinkNames
{
    /// <summary>IFNAMSIZ (16) including the terminating NUL (linux/if.h).</summary>
    public const int MaxInterfaceNameBytes = 15;

    /// <summary>IFALIASZ (256) (linux/if.h); the kernel refuses longer aliases.</summary>
    public const int MaxAliasBytes = 255;

    public static void ValidateInterfaceName(string name, string parameter)
    {
        ArgumentNullException.ThrowIfNull(name, parameter);
        var bytes = Encoding.UTF8.GetByteCount(name);
        if (bytes is 0 or > MaxInterfaceNameBytes || name is "." or ".." ||
            name.AsSpan().IndexOfAny("/: \t\n\0") >= 0)
        {
            throw new ArgumentException(
                $"interface name '{name}' must be 1..{MaxInterfaceNameBytes} bytes without '/', ':', NUL or whitespace",
                parameter);
        }
    }

    public static void ValidateAlias(string alias, string parameter)
    {
        ArgumentNullException.ThrowIfNull(alias, parameter);
        if (Encoding.UTF8.GetByteCount(alias) > MaxAliasBytes || alias.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException($"alias must be at most {MaxAliasBytes} bytes without NUL", parameter);
        }
    }
}
