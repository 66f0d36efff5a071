namespace BranchEni.Sandbox.Ec2.Model;

/// <summary>What terminating an instance did to its network interfaces (the admin endpoint reports it).</summary>
internal sealed record TerminationResult(
    string InstanceId, bool AlreadyTerminated, IReadOnlyList<string> Deleted, IReadOnlyList<string> Detached, IReadOnlyList<string> Disassociated);

/// <summary>Instance termination as EC2 does it, and how long a terminated instance stays visible.</summary>
internal sealed partial class Ec2State
{
    /// <summary>EC2 keeps answering for a terminated instance for about an hour before it disappears.</summary>
    public static readonly TimeSpan TerminatedVisibility = TimeSpan.FromHours(1);

    public bool Visible(Instance instance) =>
        instance.TerminatedAt is not { } at || DateTimeOffset.UtcNow - at < TerminatedVisibility;

    /// <summary>
    /// Terminates the instance: a trunk's branch associations end (the branches stay, <c>available</c>, tags intact),
    /// then every attached ENI with DeleteOnTermination is deleted and every other one detached. Terminating a
    /// terminated instance changes nothing; an unknown id is InvalidInstanceID.NotFound before anything changes.
    /// </summary>
    public TerminationResult Terminate(string instanceId)
    {
        var instance = InstanceById(instanceId);
        if (!instance.Running)
        {
            return new TerminationResult(instance.Id, true, [], [], []);
        }

        var attached = AttachedTo(instance.Id).ToList();
        var disassociated = new List<string>();
        foreach (var trunk in attached.Where(e => e.Type == InterfaceType.Trunk))
        {
            foreach (var association in _associations.Values.Where(a => a.TrunkInterfaceId == trunk.Id).ToList())
            {
                Disassociate(association.Id);
                disassociated.Add(association.BranchInterfaceId);
            }
        }

        var deleted = new List<string>();
        var detached = new List<string>();
        foreach (var eni in attached)
        {
            var deleteIt = eni.Attachment!.DeleteOnTermination;
            eni.Attachment = null;
            if (deleteIt)
            {
                Delete(eni.Id);
                deleted.Add(eni.Id);
            }
            else
            {
                detached.Add(eni.Id);
            }
        }

        instance.TerminatedAt = DateTimeOffset.UtcNow;
        return new TerminationResult(instance.Id, false, deleted, detached, disassociated);
    }
}
