using System.Text.Json;
using BranchEni.Cni.Protocol;
using BranchEni.Contracts;
using BranchEni.Policy;

namespace BranchEni.Cni.Config;

/// <summary>The checked plugin configuration, defaults applied (DESIGN.md §2 "CNI plugin config").</summary>
internal sealed record PluginConfig
{
    public const string PluginType = "branch-eni";
    public const int DefaultMtu = 9001;

    /// <summary>The `mtu` a config may set: at least IPv4's minimum datagram size (RFC 791), at most a 9216-byte jumbo frame.</summary>
    public const int MinMtu = 576;

    public const int MaxMtu = 9216;

    public const string DefaultVethPrefix = BranchKernelLayout.DefaultVethPrefix;
    public const int DefaultAnnotationWaitSeconds = 10;
    public const string DefaultLogFile = "/var/log/branch-eni/plugin.log";

    /// <summary>Host veth = prefix + 11 hex digits, and Linux names hold 15 bytes.</summary>
    public const int MaxVethPrefixLength = MaxLinkNameLength - BranchKernelLayout.VethHashLength;

    /// <summary>IFNAMSIZ (16) less the terminating NUL.</summary>
    private const int MaxLinkNameLength = 15;

    public required string CniVersion { get; init; }

    public required string Name { get; init; }

    public string? Kubeconfig { get; init; }

    public string StateDir { get; init; } = NodeRecords.DefaultDirectory;

    public string? TrunkInterface { get; init; }

    public EnforcingMode EnforcingMode { get; init; } = EnforcingMode.Strict;

    public int Mtu { get; init; } = DefaultMtu;

    public string VethPrefix { get; init; } = DefaultVethPrefix;

    public int AnnotationWaitSeconds { get; init; } = DefaultAnnotationWaitSeconds;

    /// <summary>
    /// The cluster's DEFAULT_POD_METADATA_ACCESS, for pods the API fallback wires before the agent has recorded its own
    /// verdict; null: the rule's default (src/Policy MetadataAccessPolicy). The agent's record always wins.
    /// </summary>
    public MetadataAccess? DefaultPodMetadataAccess { get; init; }

    public string LogFile { get; init; } = DefaultLogFile;

    public string LogLevel { get; init; } = "info";

    public JsonElement? Delegate { get; init; }

    public JsonElement? PrevResult { get; init; }

    /// <summary>GC: container ids still in use (from either attachment list); null when neither was sent.</summary>
    public IReadOnlySet<string>? ValidContainerIds { get; init; }

    /// <summary>Decodes stdin (spec code 6 on bad JSON or a wrong type, naming the JSON path) and checks it (code 7).</summary>
    public static PluginConfig Parse(ReadOnlySpan<byte> stdin)
    {
        RawPluginConfig? raw;
        try
        {
            raw = CniJsonCodec.ReadConfig(stdin);
        }
        catch (JsonException e)
        {
            throw new CniException(CniErrorCode.DecodeFailure, $"the network configuration does not decode at {e.Path ?? "$"}", e.Message);
        }

        return From(raw ?? throw new CniException(CniErrorCode.DecodeFailure, "the network configuration is null"));
    }

    public static PluginConfig From(RawPluginConfig raw)
    {
        ArgumentNullException.ThrowIfNull(raw);
        var version = raw.CniVersion;
        if (string.IsNullOrEmpty(version))
        {
            throw Invalid("cniVersion", "is missing");
        }

        if (!CniVersions.IsSupported(version))
        {
            throw new CniException(CniErrorCode.IncompatibleVersion,
                $"cniVersion {version} is not supported; supported: {string.Join(", ", CniVersions.Supported)}");
        }

        if (string.IsNullOrWhiteSpace(raw.Name))
        {
            throw Invalid("name", "is missing");
        }

        if (raw.Type != PluginType)
        {
            throw Invalid("type", $"must be \"{PluginType}\", not \"{raw.Type}\"");
        }

        return new PluginConfig
        {
            CniVersion = version,
            Name = raw.Name,
            Kubeconfig = raw.Kubeconfig is null ? null : AbsolutePath(raw.Kubeconfig, "kubeconfig"),
            StateDir = raw.StateDir is null ? NodeRecords.DefaultDirectory : AbsolutePath(raw.StateDir, "stateDir"),
            TrunkInterface = raw.TrunkInterface is null ? null : InterfaceName(raw.TrunkInterface, "trunkInterface"),
            EnforcingMode = raw.EnforcingMode is null ? EnforcingMode.Strict
                : EnforcingModes.FromConfigName(raw.EnforcingMode) ?? throw Invalid("enforcingMode", $"must be \"strict\" or \"standard\", not \"{raw.EnforcingMode}\""),
            Mtu = raw.Mtu is { } mtu and (< MinMtu or > MaxMtu) ? throw Invalid("mtu", $"{mtu} is outside {MinMtu}..{MaxMtu}") : raw.Mtu ?? DefaultMtu,
            VethPrefix = raw.VethPrefix is null ? DefaultVethPrefix : VethPrefixOf(raw.VethPrefix),
            AnnotationWaitSeconds = raw.AnnotationWaitSeconds is { } w and (< 0 or > 600)
                ? throw Invalid("annotationWaitSeconds", $"{w} is outside 0..600")
                : raw.AnnotationWaitSeconds ?? DefaultAnnotationWaitSeconds,
            DefaultPodMetadataAccess = raw.DefaultPodMetadataAccess is not { } access ? null
                : MetadataAccessPolicy.FromExactName(access) ?? throw Invalid("defaultPodMetadataAccess", $"must be \"Allowed\" or \"Denied\", not \"{access}\""),
            LogFile = raw.LogFile is null ? DefaultLogFile : AbsolutePath(raw.LogFile, "logFile"),
            LogLevel = raw.LogLevel is null ? "info" : LogLevelOf(raw.LogLevel),
            Delegate = raw.Delegate is { } d ? DelegateOf(d) : null,
            PrevResult = raw.PrevResult is { ValueKind: not JsonValueKind.Null } p ? p : null,
            ValidContainerIds = ValidIds(raw),
        };
    }

    /// <summary>The spec's interface name rules (spec "Parameters": CNI_IFNAME) plus Linux's 15-byte limit.</summary>
    public static string InterfaceName(string value, string field) =>
        InterfaceNameProblem(value) is { } problem ? throw Invalid(field, problem) : value;

    /// <summary>Why <paramref name="value"/> cannot name a Linux interface; null when it can.</summary>
    public static string? InterfaceNameProblem(string value) =>
        value.Length is 0 or > MaxLinkNameLength || value is "." or ".." || value.Any(c => c is '/' or ':' or '%' || char.IsWhiteSpace(c) || c > '~')
            ? $"'{value}' is not an interface name (1..{MaxLinkNameLength} characters, no '/', ':', '%' or spaces)"
            : null;

    private static CniException Invalid(string field, string problem) =>
        new(CniErrorCode.InvalidNetworkConfig, $"network configuration field {field} {problem}");

    private static string AbsolutePath(string value, string field) =>
        value.Length == 0 || value[0] != '/' || value.Contains('\0', StringComparison.Ordinal) || value.Split('/').Contains("..")
            ? throw Invalid(field, $"'{value}' is not an absolute path")
            : value;

    private static string VethPrefixOf(string value) =>
        value.Length is 0 or > MaxVethPrefixLength || value.Any(c => !char.IsAsciiLetterOrDigit(c))
            ? throw Invalid("vethPrefix", $"'{value}' must be 1..{MaxVethPrefixLength} ASCII letters or digits (the host veth name is the prefix + 11 hex digits, at most 15)")
            : value;

    private static string LogLevelOf(string value) =>
        value.ToLowerInvariant() switch
        {
            "verbose" or "trace" or "debug" or "info" or "information" or "warning" or "warn" or "error" or "fatal" => value.ToLowerInvariant(),
            _ => throw Invalid("logLevel", $"'{value}' is not one of debug, info, warning, error"),
        };

    private static JsonElement DelegateOf(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw Invalid("delegate", "must be a plugin configuration object");
        }

        if (!value.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String
            || type.GetString() is not { Length: > 0 } name || name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')) || name[0] == '.')
        {
            throw Invalid("delegate.type", "must name a plugin binary (letters, digits, '-', '_', '.')");
        }

        if (name == PluginType)
        {
            throw Invalid("delegate.type", "cannot be branch-eni itself");
        }

        if (value.TryGetProperty("cniVersion", out var v) && (v.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(v.GetString())))
        {
            throw Invalid("delegate.cniVersion", "must be a version string");
        }

        return value.Clone();
    }

    private static HashSet<string>? ValidIds(RawPluginConfig raw)
    {
        if (raw.ValidAttachments is null && raw.Attachments is null)
        {
            return null;
        }

        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (list, field) in new[] { (raw.ValidAttachments, "cni.dev/valid-attachments"), (raw.Attachments, "cni.dev/attachments") })
        {
            foreach (var attachment in list ?? [])
            {
                ids.Add(attachment?.ContainerId is { Length: > 0 } id ? id : throw Invalid(field, "has an entry without containerID"));
            }
        }

        return ids;
    }
}
