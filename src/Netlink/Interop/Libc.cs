using System.Runtime.InteropServices;

namespace BranchEni.Netlink.Interop;

/// <summary>P/Invoke into libc. Signatures are blittable so the marshaller generates nothing at run time (AOT).</summary>
internal static partial class Libc
{
    internal const string Library = "libc";

    /// <summary>The errno of the last P/Invoke marked SetLastError.</summary>
    internal static int LastErrno => Marshal.GetLastPInvokeError();
}
