using System.Text.Json.Nodes;
using BranchEni.Sandbox.Hosting;

namespace BranchEni.Sandbox.Kubernetes.Admission;

/// <summary>
/// What admission is asked about one write: the operation (CREATE, UPDATE), the resource and subresource ("status"),
/// the object as it would be written and the stored one it replaces, who asks, whether it is a dry run, and the
/// request's options (CreateOptions/UpdateOptions). Webhook warnings are handed to <see cref="Warn"/>.
/// </summary>
internal sealed record AdmissionAttributes(
    string Operation,
    ResourceType Type,
    string? Subresource,
    string? Namespace,
    string Name,
    JsonObject? Object,
    JsonObject? OldObject,
    SandboxIdentity User,
    bool DryRun,
    JsonObject Options,
    Action<string> Warn);
