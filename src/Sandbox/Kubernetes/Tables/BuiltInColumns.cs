using System.Globalization;
using System.Text.Json.Nodes;

namespace BranchEni.Sandbox.Kubernetes.Tables;

/// <summary>
/// The columns the API server's own printers give the core types we serve, with the cell rules kubectl users know
/// (the names and their order are what <c>kubectl get</c> prints on a real cluster; the rules are written here from the
/// documented behaviour, for the fields the sandbox's objects have).
/// </summary>
internal static class BuiltInColumns
{
    private const string None = "<none>";
    private const string Unknown = "<unknown>";

    public static IReadOnlyList<TableColumn> Nodes { get; } =
    [
        TableColumn.ObjectName,
        new("Status", "string", "The node's readiness, and whether it is cordoned.", 0, (n, _) => NodeStatus(n)),
        new("Roles", "string", "The roles from the node's node-role.kubernetes.io/* labels.", 0, (n, _) => NodeRoles(n)),
        TableColumn.CreationAge,
        new("Version", "string", "The kubelet's version.", 0, (n, _) => Meta.Str(n, "status", "nodeInfo", "kubeletVersion") ?? ""),
        new("Internal-IP", "string", "The node's first InternalIP address.", 1, (n, _) => NodeAddress(n, "InternalIP")),
        new("External-IP", "string", "The node's first ExternalIP address.", 1, (n, _) => NodeAddress(n, "ExternalIP")),
        new("OS-Image", "string", "The OS image the kubelet reports.", 1, (n, _) => Meta.Str(n, "status", "nodeInfo", "osImage") ?? Unknown),
        new("Kernel-Version", "string", "The kernel version the kubelet reports.", 1, (n, _) => Meta.Str(n, "status", "nodeInfo", "kernelVersion") ?? Unknown),
        new("Container-Runtime", "string", "The container runtime and its version.", 1,
            (n, _) => Meta.Str(n, "status", "nodeInfo", "containerRuntimeVersion") ?? Unknown),
    ];

    public static IReadOnlyList<TableColumn> Pods { get; } =
    [
        TableColumn.ObjectName,
        new("Ready", "string", "Ready containers of all containers.", 0, (p, _) => PodReady(p)),
        new("Status", "string", "The pod's phase, or why it is not running.", 0, (p, _) => PodStatus(p)),
        new("Restarts", "string", "Container restarts, with the time since the last one.", 0, PodRestarts),
        TableColumn.CreationAge,
        new("IP", "string", "The pod's IP address.", 1, (p, _) => PodIp(p)),
        new("Node", "string", "The node the pod is bound to.", 1, (p, _) => NonEmpty(Meta.Str(p, "spec", "nodeName"))),
        new("Nominated Node", "string", "The node the scheduler nominated for a preempting pod.", 1,
            (p, _) => NonEmpty(Meta.Str(p, "status", "nominatedNodeName"))),
        new("Readiness Gates", "string", "Readiness gates that are true, of all gates.", 1, (p, _) => PodReadinessGates(p)),
    ];

    public static IReadOnlyList<TableColumn> Namespaces { get; } =
    [
        TableColumn.ObjectName,
        new("Status", "string", "The namespace's phase.", 0, (ns, _) => Meta.Str(ns, "status", "phase") ?? ""),
        TableColumn.CreationAge,
    ];

    public static IReadOnlyList<TableColumn> NetworkPolicies { get; } =
    [
        TableColumn.ObjectName,
        new("Pod-Selector", "string", "The pods the policy applies to, as a label selector.", 0, (p, _) => Selector(p["spec"]?["podSelector"] as JsonObject)),
        TableColumn.CreationAge,
    ];

    /// <summary>What the API server prints for a type without a printer of its own.</summary>
    public static IReadOnlyList<TableColumn> Default { get; } = [TableColumn.ObjectName, TableColumn.CreationAge];

    private static string NonEmpty(string? value) => string.IsNullOrEmpty(value) ? None : value;

    private static IEnumerable<JsonObject> Objects(JsonNode? array) => (array as JsonArray)?.OfType<JsonObject>() ?? [];

    /// <summary>A label selector as kubectl prints it: requirements sorted by key ("app=web,tier in (a,b),!x"); empty: &lt;none&gt;.</summary>
    private static string Selector(JsonObject? selector)
    {
        var parts = new List<(string Key, string Text)>();
        foreach (var (key, value) in (selector?["matchLabels"] as JsonObject) ?? [])
        {
            parts.Add((key, $"{key}={value}"));
        }

        foreach (var e in Objects(selector?["matchExpressions"]))
        {
            var key = Meta.Str(e, "key") ?? "";
            var values = string.Join(',', ((e["values"] as JsonArray) ?? []).Select(v => v?.ToString()).Order(StringComparer.Ordinal));
            parts.Add((key, Meta.Str(e, "operator") switch
            {
                "In" => $"{key} in ({values})",
                "NotIn" => $"{key} notin ({values})",
                "Exists" => key,
                "DoesNotExist" => "!" + key,
                var op => $"{key} {op}",
            }));
        }

        return parts.Count == 0 ? None : string.Join(',', parts.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Text));
    }

    private static string NodeStatus(JsonObject node)
    {
        var ready = Objects(node["status"]?["conditions"]).FirstOrDefault(c => Meta.Str(c, "type") == "Ready");
        var status = ready is null ? "Unknown" : Meta.Str(ready, "status") == "True" ? "Ready" : "NotReady";
        return Meta.Str(node, "spec", "unschedulable") == "true" ? status + ",SchedulingDisabled" : status;
    }

    private static string NodeRoles(JsonObject node)
    {
        const string prefix = "node-role.kubernetes.io/";
        var roles = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (key, value) in Meta.Labels(node))
        {
            if (key.StartsWith(prefix, StringComparison.Ordinal) && key.Length > prefix.Length)
            {
                roles.Add(key[prefix.Length..]);
            }
            else if (key == "kubernetes.io/role" && value.Length > 0)
            {
                roles.Add(value);
            }
        }

        return roles.Count == 0 ? None : string.Join(',', roles);
    }

    private static string NodeAddress(JsonObject node, string type) =>
        NonEmpty(Objects(node["status"]?["addresses"]).Where(a => Meta.Str(a, "type") == type).Select(a => Meta.Str(a, "address")).FirstOrDefault());

    private static string PodReady(JsonObject pod)
    {
        var total = (pod["spec"]?["containers"] as JsonArray)?.Count ?? 0;
        var ready = Objects(pod["status"]?["containerStatuses"]).Count(s => Meta.Str(s, "ready") == "true");
        return string.Create(CultureInfo.InvariantCulture, $"{ready}/{total}");
    }

    private static string PodStatus(JsonObject pod)
    {
        if (Meta.Str(pod, "metadata", "deletionTimestamp") is not null)
        {
            return Meta.Str(pod, "status", "reason") == "NodeLost" ? "Unknown" : "Terminating";
        }

        var reason = Meta.Str(pod, "status", "reason") is { Length: > 0 } r ? r : Meta.Str(pod, "status", "phase") ?? "";
        // A container's own trouble is more telling than the phase; the last container that has some wins, as in kubectl.
        foreach (var container in Objects(pod["status"]?["containerStatuses"]).Reverse())
        {
            if (Meta.Str(container, "state", "waiting", "reason") is { Length: > 0 } waiting)
            {
                return waiting;
            }

            if (container["state"]?["terminated"] is JsonObject terminated)
            {
                return Meta.Str(terminated, "reason") is { Length: > 0 } why ? why
                    : Meta.Str(terminated, "signal") is { Length: > 0 } and not "0" and var signal ? $"Signal:{signal}"
                    : $"ExitCode:{Meta.Str(terminated, "exitCode") ?? "0"}";
            }
        }

        return reason;
    }

    private static JsonNode PodRestarts(JsonObject pod, DateTime now)
    {
        var statuses = Objects(pod["status"]?["containerStatuses"]).ToList();
        var restarts = statuses.Sum(s => long.TryParse(Meta.Str(s, "restartCount"), CultureInfo.InvariantCulture, out var n) ? n : 0);
        var last = statuses
            .Select(s => Meta.Str(s, "lastState", "terminated", "finishedAt"))
            .Where(t => t is not null)
            .Max(StringComparer.Ordinal);
        return restarts > 0 && last is not null
            ? string.Create(CultureInfo.InvariantCulture, $"{restarts} ({Age.Since(last, now)} ago)")
            : restarts.ToString(CultureInfo.InvariantCulture);
    }

    private static string PodIp(JsonObject pod) =>
        NonEmpty(Objects(pod["status"]?["podIPs"]).Select(ip => Meta.Str(ip, "ip")).FirstOrDefault() ?? Meta.Str(pod, "status", "podIP"));

    private static string PodReadinessGates(JsonObject pod)
    {
        var gates = Objects(pod["spec"]?["readinessGates"]).Select(g => Meta.Str(g, "conditionType")).ToList();
        if (gates.Count == 0)
        {
            return None;
        }

        var trueConditions = Objects(pod["status"]?["conditions"]).Where(c => Meta.Str(c, "status") == "True").Select(c => Meta.Str(c, "type")).ToHashSet();
        return string.Create(CultureInfo.InvariantCulture, $"{gates.Count(trueConditions.Contains)}/{gates.Count}");
    }
}
