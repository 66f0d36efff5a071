using BranchEni.Cni.Protocol;

namespace BranchEni.Cni.Config;

/// <summary>
/// CNI_ARGS ("K=V;K=V"): the pod identity kubelet/containerd pass. Unknown keys are refused unless
/// IgnoreUnknown=1|true, like the reference plugins' args loader.
/// </summary>
internal sealed record CniArgs
{
    public string? PodNamespace { get; init; }

    public string? PodName { get; init; }

    public string? PodUid { get; init; }

    /// <summary>True when both namespace and name are known (the host veth name needs them).</summary>
    public bool HasPod => PodNamespace is not null && PodName is not null;

    public static readonly CniArgs Empty = new();

    public static CniArgs Parse(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return Empty;
        }

        var pairs = new List<(string Key, string Value)>();
        foreach (var part in text.Split(';'))
        {
            if (part.Length == 0)
            {
                continue;
            }

            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw Invalid($"'{part}' is not KEY=VALUE");
            }

            pairs.Add((part[..eq], part[(eq + 1)..]));
        }

        var ignoreUnknown = pairs.Any(p => p.Key == "IgnoreUnknown" && (p.Value is "1" or "true" or "True"));
        string? ns = null, name = null, uid = null;
        foreach (var (key, value) in pairs)
        {
            switch (key)
            {
                case "K8S_POD_NAMESPACE":
                    ns = Once(ns, key, DnsLabel(value, key));
                    break;
                case "K8S_POD_NAME":
                    name = Once(name, key, DnsSubdomain(value, key));
                    break;
                case "K8S_POD_UID":
                    uid = Once(uid, key, Uid(value));
                    break;
                case "IgnoreUnknown" or "K8S_POD_INFRA_CONTAINER_ID":
                    break;
                default:
                    if (!ignoreUnknown)
                    {
                        throw Invalid($"has the unknown key {key} (set IgnoreUnknown=1 to allow it)");
                    }

                    break;
            }
        }

        return new CniArgs { PodNamespace = ns, PodName = name, PodUid = uid };
    }

    private static string Once(string? previous, string key, string value) =>
        previous is null ? value : throw Invalid($"sets {key} twice");

    private static string DnsLabel(string value, string key) =>
        value.Length is 0 or > 63 || !IsDnsPart(value) ? throw Invalid($"{key} '{value}' is not a DNS-1123 label") : value;

    private static string DnsSubdomain(string value, string key) =>
        value.Length is 0 or > 253 || value.Split('.').Any(p => p.Length == 0 || !IsDnsPart(p))
            ? throw Invalid($"{key} '{value}' is not a DNS-1123 subdomain")
            : value;

    private static bool IsDnsPart(string s) =>
        s.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-') && s[0] != '-' && s[^1] != '-';

    private static string Uid(string value) =>
        value.Length is 0 or > 64 || !value.All(c => char.IsAsciiHexDigit(c) || c == '-')
            ? throw Invalid($"K8S_POD_UID '{value}' is not a pod UID")
            : value;

    private static CniException Invalid(string problem) => new(CniErrorCode.InvalidEnvironment, $"CNI_ARGS {problem}");
}
