using System.Buffers;
using System.Text.Json;
using BranchEni.Kube;
using BranchEni.Policy;

namespace BranchEni.Controller.Admission;

/// <summary>What the mutating webhook knows about the cluster when a pod arrives (from the informer caches).</summary>
/// <param name="Synced">Both caches have listed once; before that "nothing selects it" would be a guess.</param>
/// <param name="Policies">Every SecurityGroupPolicy (the matcher keeps those of the pod's namespace).</param>
/// <param name="ServiceAccountLabels">(namespace, name) -> the account's labels, or null when unknown.</param>
internal sealed record SelectionInputs(
    bool Synced,
    IEnumerable<SecurityGroupPolicy> Policies,
    Func<string, string, IReadOnlyDictionary<string, string>?> ServiceAccountLabels)
{
    /// <summary>Where aws.tigera.io/security-groups counts (--enable-sg-annotation, --sg-annotation-namespaces).</summary>
    public SecurityGroupAnnotationSettings SgAnnotation { get; init; } = SecurityGroupAnnotationSettings.Disabled;
}

/// <summary>
/// The mutating webhook (issue 17): a pod that is not hostNetwork and that a SecurityGroupPolicy of its namespace
/// selects (or whose aws.tigera.io/security-groups annotation counts, issue 19) gets <see cref="PodEni.Resource"/>: "1" in the requests and limits of containers[0], so the scheduler
/// places it only on a node with a free branch. Selection is <see cref="BranchDecision"/>, the rule the agent and the
/// CNI use, so the three cannot disagree about which pods need a branch.
/// </summary>
internal static class PodEniInjector
{
    public static AdmissionVerdict Decide(AdmissionRequest request, SelectionInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(inputs);
        var pod = request.Object;
        if (request.Operation != "CREATE" || pod.ValueKind != JsonValueKind.Object || !pod.TryGetProperty("spec", out var spec)
            || spec.ValueKind != JsonValueKind.Object)
        {
            return AdmissionVerdict.Allow;
        }

        // A hostNetwork pod shares the node's interfaces: no branch can be given to it.
        if (spec.TryGetProperty("hostNetwork", out var hostNetwork) && hostNetwork.ValueKind == JsonValueKind.True)
        {
            return AdmissionVerdict.Allow;
        }

        // Already asks for a branch (in any container): nothing to add; this keeps re-invocation idempotent.
        if (PodEni.IsRequestedBy(spec) || !spec.TryGetProperty("containers", out var containers)
            || containers.ValueKind != JsonValueKind.Array || containers.GetArrayLength() == 0)
        {
            return AdmissionVerdict.Allow;
        }

        if (!inputs.Synced)
        {
            return AdmissionVerdict.TryAgain(
                "branch-eni-controller has not yet read every SecurityGroupPolicy and ServiceAccount, so it cannot tell whether this pod needs a branch ENI; try again in a few seconds");
        }

        var decision = BranchDecision.For(PolicyPodOf(request, pod, spec, inputs), requestsPodEni: false, inputs.Policies, inputs.SgAnnotation);
        return decision.NeedsBranch ? AdmissionVerdict.Patch(ResourcePatch(containers[0])) : AdmissionVerdict.Allow;
    }

    private static PolicyPod PolicyPodOf(AdmissionRequest request, JsonElement pod, JsonElement spec, SelectionInputs inputs)
    {
        var metadata = pod.TryGetProperty("metadata", out var m) && m.ValueKind == JsonValueKind.Object ? m : default;
        var labels = metadata.ValueKind == JsonValueKind.Object ? ObjectFields.Map(metadata, "labels") : [];

        // On CREATE metadata.namespace may be unset (generateName, namespace from the URL): the request names it.
        var ns = request.Namespace ?? (metadata.ValueKind == JsonValueKind.Object ? ObjectFields.Str(metadata, "namespace") : null) ?? "default";
        var account = ObjectFields.Str(spec, "serviceAccountName") ?? "default";
        var annotations = metadata.ValueKind == JsonValueKind.Object ? ObjectFields.Map(metadata, "annotations") : [];
        return new PolicyPod(ns, labels, account, inputs.ServiceAccountLabels(ns, account), SecurityGroupAnnotation.Of(annotations));
    }

    /// <summary>
    /// The RFC 6902 patch adding the resource to containers[0]'s requests and limits, creating `resources`, `requests`
    /// and `limits` when absent (a JSON Patch "add" needs the parent to exist). RFC 6901 escapes '/' in the key as "~1".
    /// </summary>
    internal static byte[] ResourcePatch(JsonElement container)
    {
        const string resources = "/spec/containers/0/resources";
        var key = PodEni.Resource.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            if (!container.TryGetProperty("resources", out var existing) || existing.ValueKind != JsonValueKind.Object)
            {
                Add(json, resources, value =>
                {
                    value.WriteStartObject();
                    OneQuantity(value, "requests");
                    OneQuantity(value, "limits");
                    value.WriteEndObject();
                });
            }
            else
            {
                foreach (var list in new[] { "requests", "limits" })
                {
                    if (existing.TryGetProperty(list, out var quantities) && quantities.ValueKind == JsonValueKind.Object)
                    {
                        Add(json, $"{resources}/{list}/{key}", value => value.WriteStringValue("1"));
                    }
                    else
                    {
                        Add(json, $"{resources}/{list}", value =>
                        {
                            value.WriteStartObject();
                            value.WriteString(PodEni.Resource, "1");
                            value.WriteEndObject();
                        });
                    }
                }
            }

            json.WriteEndArray();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void OneQuantity(Utf8JsonWriter json, string list)
    {
        json.WriteStartObject(list);
        json.WriteString(PodEni.Resource, "1");
        json.WriteEndObject();
    }

    private static void Add(Utf8JsonWriter json, string path, Action<Utf8JsonWriter> value)
    {
        json.WriteStartObject();
        json.WriteString("op", "add");
        json.WriteString("path", path);
        json.WritePropertyName("value");
        value(json);
        json.WriteEndObject();
    }
}
