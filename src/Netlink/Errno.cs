namespace BranchEni.Netlink;

/// <summary>The errno values callers of this library test <see cref="NetlinkException.Errno"/> against
/// (asm-generic/errno-base.h, asm-generic/errno.h; Linux on x86-64 and arm64).</summary>
public static class Errno
{
    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int ESRCH = 3;
    public const int EINTR = 4;
    public const int EBADF = 9;
    public const int EAGAIN = 11;
    public const int ENOMEM = 12;
    public const int EACCES = 13;
    public const int EBUSY = 16;
    public const int EEXIST = 17;
    public const int ENODEV = 19;
    public const int EINVAL = 22;
    public const int ERANGE = 34;
    public const int ENODATA = 61;
    public const int EMSGSIZE = 90;
    public const int EBADMSG = 74;
    public const int EPROTO = 71;
    public const int ENOBUFS = 105;
    public const int EADDRNOTAVAIL = 99;
    public const int ENETUNREACH = 101;
    public const int EOPNOTSUPP = 95;
    public const int ETIMEDOUT = 110;
}
