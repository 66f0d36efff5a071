using k8s.Models;

namespace BranchEni.Kube;

/// <summary>core/v1 Events as the agent and the controller record them.</summary>
public static class KubeEvents
{
    /// <summary>A new Event about <paramref name="about"/> from <paramref name="component"/>, in the object's namespace.</summary>
    public static Corev1Event New(V1ObjectReference about, string type, string reason, string message, string component)
    {
        ArgumentNullException.ThrowIfNull(about);
        var now = DateTime.UtcNow;
        var suffix = Convert.ToHexStringLower(BitConverter.GetBytes(now.Ticks ^ Random.Shared.NextInt64()));
        var name = about.Name ?? "object";
        return new Corev1Event
        {
            // Event names are names too (at most 253): a long object name is cut before the unique suffix.
            Metadata = new V1ObjectMeta { Name = $"{name[..Math.Min(name.Length, 200)]}.{suffix}", NamespaceProperty = about.NamespaceProperty ?? "default" },
            InvolvedObject = about,
            Type = type,
            Reason = reason,
            Message = message,
            Source = new V1EventSource { Component = component },
            ReportingComponent = component,
            ReportingInstance = Environment.MachineName,
            FirstTimestamp = now,
            LastTimestamp = now,
            Count = 1,
        };
    }
}
