using System.Runtime.InteropServices;

namespace BranchEni.Netlink;

/// <summary>
/// A netlink request the kernel refused or that could not be sent: the errno, the operation in `ip` terms
/// (for example "RTM_NEWRULE iif vlan.eth.7 table 107") and the kernel's extended-ack text when it gave one.
/// </summary>
public sealed class NetlinkException : Exception
{
    public NetlinkException(int errno, string operation, string? extendedAck = null)
        : base(Describe(errno, operation, extendedAck))
    {
        Errno = errno;
        Operation = operation;
        ExtendedAck = extendedAck;
    }

    /// <summary>The positive errno (EEXIST = 17, ENOENT = 2, ...).</summary>
    public int Errno { get; }

    /// <summary>What was asked, in the terms of the equivalent `ip` command.</summary>
    public string Operation { get; }

    /// <summary>The kernel's NLMSGERR_ATTR_MSG text, if any.</summary>
    public string? ExtendedAck { get; }

    private static string Describe(int errno, string operation, string? extendedAck) =>
        extendedAck is { Length: > 0 }
            ? $"{operation}: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}): {extendedAck}"
            : $"{operation}: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})";
}
