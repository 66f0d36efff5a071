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

    /// <summary>fstat(2) into a raw struct stat buffer: st_dev is its first 8 bytes and st_ino the next 8 on x86-64 and on
    /// arm64 (the generic layout), which is all callers read.</summary>
    [LibraryImport(Library, EntryPoint = "fstat", SetLastError = true)]
    internal static unsafe partial int FStat(int fd, byte* statBuffer);

    /// <summary>sizeof(struct stat) is 144 on x86-64 and 128 on arm64: a buffer of this size holds either.</summary>
    internal const int StatBufferSize = 256;

    /// <summary>Moves the calling thread (only it) into the namespace of <paramref name="fd"/>.</summary>
    [LibraryImport(Library, EntryPoint = "setns", SetLastError = true)]
    internal static partial int SetNs(int fd, int nsType);
}
