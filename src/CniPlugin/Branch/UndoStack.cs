using Serilog.Core;

namespace BranchEni.Cni.Branch;

/// <summary>
/// The undo of every ADD step done so far, run newest first when a later step fails. Each undo is idempotent
/// ("already gone" is success), so a rollback that meets half-done state still completes.
/// </summary>
internal sealed class UndoStack(Logger log)
{
    private readonly Stack<(string Step, Action Undo)> undos = new();

    public int Count => undos.Count;

    public void Push(string step, Action undo) => undos.Push((step, undo));

    /// <summary>Runs every undo; a failing undo is logged and the rest still run (leaving less behind is better).</summary>
    public void Rollback()
    {
        while (undos.TryPop(out var entry))
        {
            try
            {
                entry.Undo();
                log.Debug("rolled back {Step}", entry.Step);
            }
            catch (Exception e)
            {
                log.Error(e, "rollback of {Step} failed", entry.Step);
            }
        }
    }

    /// <summary>ADD succeeded: the undos are no longer wanted.</summary>
    public void Commit() => undos.Clear();
}
