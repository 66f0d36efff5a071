using System.Runtime.InteropServices;

namespace BranchEni.Netlink.Interop;

/// <summary>Owns a netlink socket descriptor; close() exactly once, even when the handle is finalized.</summary>
internal sealed class NetlinkSocketHandle : SafeHandle
{
    public NetlinkSocketHandle(int fd)
        : base(invalidHandleValue: -1, ownsHandle: true) => SetHandle(fd);

    public override bool IsInvalid => handle == -1;

    protected override bool ReleaseHandle() => Libc.Close((int)handle) == 0;
}
