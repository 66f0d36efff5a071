using System.Runtime.InteropServices;

namespace BranchEni.Netlink.Interop;

internal static partial class Libc
{
    // fcntl.h, sched.h
    internal const int O_RDONLY = 0;
    internal const int O_CLOEXEC = 0x80000;
    internal const int CLONE_NEWNET = 0x40000000;

    [LibraryImport(Library, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Open(string path, int flags);

    /// <summary>Moves the calling thread (only it) into the namespace of <paramref name="fd"/>.</summary>
    [LibraryImport(Library, EntryPoint = "setns", SetLastError = true)]
    internal static partial int SetNs(int fd, int nsType);
}
