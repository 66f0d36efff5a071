using BranchEni.Cni.Protocol;
using BranchEni.Contracts;

namespace BranchEni.Cni.Branch;

/// <summary>
/// The node-wide lock around shared kernel state (VLAN links, rule priorities, tables): flock on stateDir/cni.lock.
/// The kernel drops it when the process dies, so a killed ADD never wedges the node.
/// </summary>
internal sealed class NodeLock : IDisposable
{
    private readonly FileStream file;

    private NodeLock(FileStream file) => this.file = file;

    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    public static NodeLock Acquire(string stateDir, TimeSpan? timeout = null)
    {
        Directory.CreateDirectory(stateDir);
        var path = Path.Combine(stateDir, BranchKernelLayout.NodeLockFileName);
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        var delay = 2;
        while (true)
        {
            try
            {
                // FileShare.None makes .NET take flock(LOCK_EX | LOCK_NB) on the descriptor.
                return new NodeLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(delay);
                delay = Math.Min(delay * 2, 50);
            }
            catch (IOException e)
            {
                throw new CniException(CniErrorCode.TryAgainLater, $"the node lock {path} is held by another branch-eni for too long", e.Message);
            }
        }
    }

    public void Dispose() => file.Dispose();
}
