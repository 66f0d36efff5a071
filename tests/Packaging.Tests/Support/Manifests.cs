using System.Text.Json.Nodes;

namespace BranchEni.Packaging.Tests.Support;

/// <summary>A rendered set of Kubernetes objects (kustomize base or chart) and the lookups the tests need.</summary>
public sealed class Manifests(IReadOnlyList<JsonObject> objects)
{
    public IReadOnlyList<JsonObject> Objects { get; } = objects;

    /// <summary>`kubectl kustomize packaging/base`, the operator's `kubectl apply -k` input.</summary>
    public static Manifests Kustomize() => new(Yaml.Documents(Repo.Run("kubectl", "kustomize", Repo.PathOf("packaging", "base"))));

    public static string KeyOf(JsonObject o) =>
        $"{o["kind"]}/{o["metadata"]?["namespace"]?.GetValue<string>() ?? ""}/{o["metadata"]!["name"]}";

    public JsonObject Get(string kind, string name) =>
        Objects.SingleOrDefault(o => o["kind"]!.GetValue<string>() == kind && o["metadata"]!["name"]!.GetValue<string>() == name)
        ?? throw new InvalidOperationException($"no {kind} {name} among {string.Join(", ", Objects.Select(KeyOf))}");

    public IEnumerable<JsonObject> OfKind(string kind) => Objects.Where(o => o["kind"]!.GetValue<string>() == kind);

    public JsonObject DaemonSet => Get("DaemonSet", "branch-eni");

    public JsonObject PodSpec => DaemonSet["spec"]!["template"]!["spec"]!.AsObject();

    public JsonObject Agent => PodSpec["containers"]!.AsArray().Select(c => c!.AsObject()).Single(c => c["name"]!.GetValue<string>() == "agent");

    public IReadOnlyList<JsonObject> EnvEntries => [.. Agent["env"]!.AsArray().Select(e => e!.AsObject())];

    /// <summary>The env entries with a literal value (not valueFrom).</summary>
    public IReadOnlyDictionary<string, string> PlainEnv =>
        EnvEntries.Where(e => e["value"] is not null).ToDictionary(e => e["name"]!.GetValue<string>(), e => e["value"]!.GetValue<string>());

    public IReadOnlyList<string> Command => [.. Agent["command"]!.AsArray().Select(a => a!.GetValue<string>())];

    public JsonObject Volume(string name) =>
        PodSpec["volumes"]!.AsArray().Select(v => v!.AsObject()).SingleOrDefault(v => v["name"]!.GetValue<string>() == name)
        ?? throw new InvalidOperationException($"no volume {name}");

    /// <summary>The volume mount whose mountPath holds the path (longest match), or null.</summary>
    public JsonObject? MountFor(string containerPath) =>
        Agent["volumeMounts"]!.AsArray().Select(m => m!.AsObject())
            .Where(m => Within(containerPath, m["mountPath"]!.GetValue<string>()))
            .OrderByDescending(m => m["mountPath"]!.GetValue<string>().Length)
            .FirstOrDefault();

    /// <summary>
    /// Where a container path lives when the pod runs: under a hostPath volume, the node's path; under a configMap
    /// volume, "configmap:NAME/rest". Null when no mount holds it (the image's own filesystem).
    /// </summary>
    public string? NodePathOf(string containerPath)
    {
        if (MountFor(containerPath) is not { } mount)
        {
            return null;
        }

        var mountPath = mount["mountPath"]!.GetValue<string>();
        var rest = containerPath[mountPath.Length..].TrimStart('/');
        var volume = Volume(mount["name"]!.GetValue<string>());
        if (volume["hostPath"]?["path"]?.GetValue<string>() is { } host)
        {
            return rest.Length == 0 ? host : $"{host.TrimEnd('/')}/{rest}";
        }

        if (volume["configMap"]?["name"]?.GetValue<string>() is { } configMap)
        {
            return $"configmap:{configMap}/{rest}";
        }

        throw new InvalidOperationException($"volume {volume["name"]} is neither hostPath nor configMap");
    }

    public static bool Within(string path, string dir) =>
        path == dir || path.StartsWith(dir.TrimEnd('/') + "/", StringComparison.Ordinal);
}
