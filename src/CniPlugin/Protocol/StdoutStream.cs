using System.Runtime.InteropServices;
using BranchEni.Cni.Interop;

namespace BranchEni.Cni.Protocol;

/// <summary>
/// Standard output as write(2) on descriptor 1, for the one reply the plugin writes. Not Console's stream: that sets
/// the terminal up (terminfo) on first write, a visible part of a bare start. Not a FileStream: on a redirected
/// file it writes at its own offset with pwrite(2), so output appended by others before or after could be overwritten.
/// </summary>
internal sealed class StdoutStream : Stream
{
    private const int Descriptor = 1;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            var written = Libc.Write(Descriptor, buffer, buffer.Length);
            if (written < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == Libc.Interrupted)
                {
                    continue;
                }

                throw new IOException($"cannot write the reply to stdout: {Marshal.GetPInvokeErrorMessage(errno)}");
            }

            buffer = buffer[(int)written..];
        }
    }

    public override void WriteByte(byte value) => Write([value]);

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
