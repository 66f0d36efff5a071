using System.Diagnostics;
using System.Threading.Channels;
using BranchEni.Kube;
using k8s.Models;
using Serilog;

namespace BranchEni.Controller.Companions;

/// <summary>
/// The leader's companion job (issue 19 item 4): keeps one companion NetworkPolicy <c>&lt;name&gt;-sg</c> per policy
/// annotated <c>rules.networkpolicy.tigera.io/match-security-groups: "true"</c>, and no other. A pass runs when any
/// NetworkPolicy changes (so a deleted or edited companion is put back), when this replica becomes leader, and every
/// membership interval; EC2 is read on the interval and at once when an annotated policy changes. Only the Lease holder
/// writes; the informer runs on every replica so a new leader starts from a full cache.
/// </summary>
internal sealed class CompanionReconciler(
    Informer<V1NetworkPolicy> policies,
    Func<SecurityGroupMembership> connectEc2,
    CompanionWriter writer,
    Func<bool> isLeader,
    TimeSpan interval,
    ILogger log)
{
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private SecurityGroupMembership? _membership;
    private int _refreshNow = 1;

    /// <summary>Asks for a pass soon; <paramref name="refreshMembership"/> also asks EC2 again.</summary>
    public void Poke(bool refreshMembership)
    {
        if (refreshMembership)
        {
            Interlocked.Exchange(ref _refreshNow, 1);
        }

        _wake.Writer.TryWrite(true);
    }

    /// <summary>Wires the informer: a change to an annotated policy (before or after) refreshes membership.</summary>
    public void OnPolicyChanged(V1NetworkPolicy? before, V1NetworkPolicy? after) =>
        Poke((before is not null && CompanionPlanner.IsAnnotated(before)) || (after is not null && CompanionPlanner.IsAnnotated(after)));

    public async Task RunAsync(CancellationToken ct)
    {
        var lastPoll = Stopwatch.GetTimestamp();
        while (!ct.IsCancellationRequested)
        {
            var untilPoll = interval - Stopwatch.GetElapsedTime(lastPoll);
            if (untilPoll > TimeSpan.Zero)
            {
                using var timer = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timer.CancelAfter(untilPoll);
                try
                {
                    await _wake.Reader.ReadAsync(timer.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    // The interval is up.
                }
            }

            if (ct.IsCancellationRequested)
            {
                return;
            }

            var asked = Interlocked.Exchange(ref _refreshNow, 0) == 1;
            var poll = asked || Stopwatch.GetElapsedTime(lastPoll) >= interval;
            if (poll)
            {
                lastPoll = Stopwatch.GetTimestamp();
            }

            if (!isLeader() || !policies.IsSynced)
            {
                // Whoever becomes leader starts with a fresh read.
                Interlocked.Exchange(ref _refreshNow, 1);
                continue;
            }

            try
            {
                await PassAsync(poll, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                log.Warning("Companion NetworkPolicy pass failed ({Error}); retrying on the next change or interval", e.Message);
            }
        }
    }

    /// <summary>One look at every policy: read membership if due, then create, update or delete companions.</summary>
    internal async Task PassAsync(bool poll, CancellationToken ct)
    {
        var all = policies.Items.ToList();
        var originals = all.Where(CompanionPlanner.IsAnnotated).ToList();
        var groups = originals.SelectMany(CompanionPlanner.ReferencedGroups).ToHashSet(StringComparer.Ordinal);
        if (groups.Count > 0 && (poll || _membership?.Knows(groups) != true))
        {
            await RefreshMembershipAsync(groups, ct).ConfigureAwait(false);
        }

        var kept = new HashSet<string>(StringComparer.Ordinal);
        foreach (var original in originals)
        {
            if (await ReconcileAsync(original, ct).ConfigureAwait(false) is { } key)
            {
                kept.Add(key);
            }
        }

        // Companions whose original is gone, lost its annotation, or no longer has a security-group rule.
        foreach (var stale in all.Where(p => IsCompanionShape(p) && !kept.Contains(Key(p.Metadata.NamespaceProperty, p.Metadata.Name))))
        {
            await writer.DeleteAsync(stale, "its policy is gone, not annotated, or has no security-group rule", ct).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// EC2 trouble keeps the last good membership for <see cref="SecurityGroupMembership.MaxStaleness"/>, then drops it.
    /// Why not drop at once: the companion's /32s let real clients (instances, databases) through, and a brief EC2
    /// outage or throttling must not cut them off. Why not keep forever: a departed instance's address can be handed
    /// to another interface in the VPC, which the stale /32 would then allow; past the bound the control fails closed.
    /// The pod peers (a) need no EC2 and stay. The VPC still applies the pod's own security groups on its branch ENI.
    /// </summary>
    private async Task RefreshMembershipAsync(HashSet<string> groups, CancellationToken ct)
    {
        try
        {
            _membership ??= connectEc2();
            await _membership.RefreshAsync(groups, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            log.Warning("Cannot read security group membership from EC2 ({Error}); keeping the last answer for a while", e.Message);
            _membership?.ExpireStale();
        }
    }

    /// <summary>Brings one original's companion up to date; returns the companion's key when it should exist.</summary>
    private async Task<string?> ReconcileAsync(V1NetworkPolicy original, CancellationToken ct)
    {
        var ns = original.Metadata.NamespaceProperty;
        var name = CompanionPlanner.CompanionName(original.Metadata.Name);
        if (name.Length > CompanionPlanner.MaxNameLength)
        {
            await writer.WarnAsync(original, "CompanionNameTooLong",
                $"no companion policy: '{name}' would be longer than the {CompanionPlanner.MaxNameLength} characters a NetworkPolicy name may have; shorten the policy's name", ct).ConfigureAwait(false);
            return null;
        }

        var existing = policies.Get(Key(ns, name));
        if (existing is not null && !IsCompanionOf(existing, original))
        {
            await writer.WarnAsync(original, "CompanionNameTaken",
                $"no companion policy: {ns}/{name} exists and is not managed by branch-eni for this policy; rename or delete it", ct).ConfigureAwait(false);
            return null;
        }

        writer.Resolved(original, "CompanionNameTaken");
        var spec = CompanionPlanner.Plan(original.Spec, g => _membership?.AddressesInAll(g) ?? []);
        if (spec is null)
        {
            return null;
        }

        var desired = CompanionWriter.Companion(original, spec);
        if (existing is null)
        {
            await writer.CreateAsync(desired, ct).ConfigureAwait(false);
        }
        else if (!CompanionWriter.IsUpToDate(existing, desired))
        {
            await writer.UpdateAsync(existing, desired, ct).ConfigureAwait(false);
        }

        return Key(ns, name);
    }

    /// <summary>Ours: our label and, as controller, a NetworkPolicy whose name plus "-sg" is this object's name.</summary>
    private static bool IsCompanionShape(V1NetworkPolicy policy) =>
        CompanionPlanner.IsManaged(policy) && ControllerOwner(policy) is { } owner && CompanionPlanner.CompanionName(owner.Name) == policy.Metadata.Name;

    /// <summary>
    /// Ours for this original. The owner's uid may differ (the original was deleted and created again under the same
    /// name before we saw it); the update then points the owner at the new one.
    /// </summary>
    private static bool IsCompanionOf(V1NetworkPolicy existing, V1NetworkPolicy original) =>
        IsCompanionShape(existing) && ControllerOwner(existing)!.Name == original.Metadata.Name;

    private static V1OwnerReference? ControllerOwner(V1NetworkPolicy policy) =>
        policy.Metadata.OwnerReferences?.FirstOrDefault(o => o.Controller == true && o.Kind == "NetworkPolicy" && o.ApiVersion == "networking.k8s.io/v1");

    private static string Key(string ns, string name) => $"{ns}/{name}";
}
