using System.Text.Json;
using BranchEni.Cni.Config;
using BranchEni.Contracts;

namespace BranchEni.Cni.Protocol;

/// <summary>
/// The plugin's per-call JSON, read and written without building <see cref="CniJsonContext"/>'s metadata (why:
/// <see cref="JsonFields"/>): the network configuration on stdin, a result (ours out, a prevResult or a delegate's
/// in). Field for field what the context reads and writes (null fields left out); tests hold the two equal.
/// </summary>
internal static class CniJsonCodec
{
    /// <summary>The network configuration; null for JSON null.</summary>
    public static RawPluginConfig? ReadConfig(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        if (!JsonFields.Begin(ref reader))
        {
            return null;
        }

        var config = new RawPluginConfig();
        while (JsonFields.NextProperty(ref reader))
        {
            config = reader.GetString() switch
            {
                "cniVersion" => config with { CniVersion = JsonFields.String(ref reader, "$", "cniVersion") },
                "name" => config with { Name = JsonFields.String(ref reader, "$", "name") },
                "type" => config with { Type = JsonFields.String(ref reader, "$", "type") },
                "kubeconfig" => config with { Kubeconfig = JsonFields.String(ref reader, "$", "kubeconfig") },
                "stateDir" => config with { StateDir = JsonFields.String(ref reader, "$", "stateDir") },
                "trunkInterface" => config with { TrunkInterface = JsonFields.String(ref reader, "$", "trunkInterface") },
                "enforcingMode" => config with { EnforcingMode = JsonFields.String(ref reader, "$", "enforcingMode") },
                "mtu" => config with { Mtu = JsonFields.Int(ref reader, "$", "mtu") },
                "vethPrefix" => config with { VethPrefix = JsonFields.String(ref reader, "$", "vethPrefix") },
                "annotationWaitSeconds" => config with { AnnotationWaitSeconds = JsonFields.Int(ref reader, "$", "annotationWaitSeconds") },
                "defaultPodMetadataAccess" => config with { DefaultPodMetadataAccess = JsonFields.String(ref reader, "$", "defaultPodMetadataAccess") },
                "logFile" => config with { LogFile = JsonFields.String(ref reader, "$", "logFile") },
                "logLevel" => config with { LogLevel = JsonFields.String(ref reader, "$", "logLevel") },
                "delegate" => config with { Delegate = JsonFields.Element(ref reader) },
                "prevResult" => config with { PrevResult = JsonFields.Element(ref reader) },
                "cni.dev/valid-attachments" => config with { ValidAttachments = ReadAttachments(ref reader, "cni.dev/valid-attachments") },
                "cni.dev/attachments" => config with { Attachments = ReadAttachments(ref reader, "cni.dev/attachments") },
                _ => Skipped(ref reader, config),
            };
        }

        JsonFields.End(ref reader);
        return config;
    }

    /// <summary>A CNI result (ours, a prevResult, a delegate's); null for JSON null.</summary>
    public static CniResult? ReadResult(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        if (!JsonFields.Begin(ref reader))
        {
            return null;
        }

        var result = new CniResult();
        while (JsonFields.NextProperty(ref reader))
        {
            result = reader.GetString() switch
            {
                "cniVersion" => result with { CniVersion = JsonFields.String(ref reader, "$", "cniVersion") },
                "interfaces" => result with { Interfaces = ReadList(ref reader, "$.interfaces", ReadInterface) },
                "ips" => result with { Ips = ReadList(ref reader, "$.ips", ReadIp) },
                "routes" => result with { Routes = ReadList(ref reader, "$.routes", ReadRoute) },
                "dns" => result with { Dns = JsonFields.Element(ref reader) },
                _ => Skipped(ref reader, result),
            };
        }

        JsonFields.End(ref reader);
        return result;
    }

    /// <summary>A JSON value already parsed (a prevResult) read as a result.</summary>
    public static CniResult? ReadResult(JsonElement element) =>
        ReadResult(System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(element));

    /// <summary>Writes <paramref name="result"/> as the context does: declared order, null fields left out.</summary>
    public static void WriteResult(Stream stream, CniResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        using var w = new Utf8JsonWriter(stream);
        w.WriteStartObject();
        StringField(w, "cniVersion", result.CniVersion);
        WriteList(w, "interfaces", result.Interfaces, static (w, i) =>
        {
            StringField(w, "name", i.Name);
            StringField(w, "mac", i.Mac);
            IntField(w, "mtu", i.Mtu);
            StringField(w, "sandbox", i.Sandbox);
        });
        WriteList(w, "ips", result.Ips, static (w, ip) =>
        {
            StringField(w, "version", ip.Version);
            StringField(w, "address", ip.Address);
            StringField(w, "gateway", ip.Gateway);
            IntField(w, "interface", ip.Interface);
        });
        WriteList(w, "routes", result.Routes, static (w, r) =>
        {
            StringField(w, "dst", r.Dst);
            StringField(w, "gw", r.Gw);
            IntField(w, "mtu", r.Mtu);
            IntField(w, "advmss", r.Advmss);
            IntField(w, "priority", r.Priority);
            IntField(w, "table", r.Table);
            IntField(w, "scope", r.Scope);
        });
        if (result.Dns is { } dns)
        {
            w.WritePropertyName("dns");
            dns.WriteTo(w);
        }

        w.WriteEndObject();
    }

    /// <summary>The result as UTF-8 JSON bytes.</summary>
    public static byte[] ResultBytes(CniResult result)
    {
        using var buffer = new MemoryStream();
        WriteResult(buffer, result);
        return buffer.ToArray();
    }

    private delegate T ElementReader<T>(ref Utf8JsonReader reader, string path);

    private static List<Attachment>? ReadAttachments(ref Utf8JsonReader reader, string field) =>
        ReadList(ref reader, JsonFields.Child("$", field), static (ref Utf8JsonReader r, string path) =>
        {
            string? containerId = null, ifName = null;
            while (JsonFields.NextProperty(ref r))
            {
                switch (r.GetString())
                {
                    case "containerID": containerId = JsonFields.String(ref r, path, "containerID"); break;
                    case "ifname": ifName = JsonFields.String(ref r, path, "ifname"); break;
                    default: JsonFields.Skip(ref r); break;
                }
            }

            return new Attachment { ContainerId = containerId, IfName = ifName };
        });

    /// <summary>From a property name: an array of objects (null elements kept as null, as the context keeps them).</summary>
    private static List<T>? ReadList<T>(ref Utf8JsonReader reader, string path, ElementReader<T> read)
        where T : class
    {
        if (!JsonFields.Array(ref reader, path))
        {
            return null;
        }

        var list = new List<T>();
        for (var i = 0; ; i++)
        {
            var elementPath = $"{path}[{i}]";
            if (JsonFields.NextElement(ref reader, elementPath, out var end))
            {
                list.Add(read(ref reader, elementPath));
            }
            else if (end)
            {
                return list;
            }
            else
            {
                list.Add(null!);
            }
        }
    }

    private static ResultInterface ReadInterface(ref Utf8JsonReader r, string path)
    {
        var entry = new ResultInterface();
        while (JsonFields.NextProperty(ref r))
        {
            entry = r.GetString() switch
            {
                "name" => entry with { Name = JsonFields.String(ref r, path, "name") },
                "mac" => entry with { Mac = JsonFields.String(ref r, path, "mac") },
                "mtu" => entry with { Mtu = JsonFields.Int(ref r, path, "mtu") },
                "sandbox" => entry with { Sandbox = JsonFields.String(ref r, path, "sandbox") },
                _ => Skipped(ref r, entry),
            };
        }

        return entry;
    }

    private static ResultIp ReadIp(ref Utf8JsonReader r, string path)
    {
        var entry = new ResultIp();
        while (JsonFields.NextProperty(ref r))
        {
            entry = r.GetString() switch
            {
                "version" => entry with { Version = JsonFields.String(ref r, path, "version") },
                "address" => entry with { Address = JsonFields.String(ref r, path, "address") },
                "gateway" => entry with { Gateway = JsonFields.String(ref r, path, "gateway") },
                "interface" => entry with { Interface = JsonFields.Int(ref r, path, "interface") },
                _ => Skipped(ref r, entry),
            };
        }

        return entry;
    }

    private static ResultRoute ReadRoute(ref Utf8JsonReader r, string path)
    {
        var entry = new ResultRoute();
        while (JsonFields.NextProperty(ref r))
        {
            entry = r.GetString() switch
            {
                "dst" => entry with { Dst = JsonFields.String(ref r, path, "dst") },
                "gw" => entry with { Gw = JsonFields.String(ref r, path, "gw") },
                "mtu" => entry with { Mtu = JsonFields.Int(ref r, path, "mtu") },
                "advmss" => entry with { Advmss = JsonFields.Int(ref r, path, "advmss") },
                "priority" => entry with { Priority = JsonFields.Int(ref r, path, "priority") },
                "table" => entry with { Table = JsonFields.Int(ref r, path, "table") },
                "scope" => entry with { Scope = JsonFields.Int(ref r, path, "scope") },
                _ => Skipped(ref r, entry),
            };
        }

        return entry;
    }

    private static T Skipped<T>(ref Utf8JsonReader reader, T unchanged)
    {
        JsonFields.Skip(ref reader);
        return unchanged;
    }

    private static void WriteList<T>(Utf8JsonWriter w, string name, List<T>? list, Action<Utf8JsonWriter, T> fields)
        where T : class
    {
        if (list is null)
        {
            return;
        }

        w.WriteStartArray(name);
        foreach (var item in list)
        {
            if (item is null)
            {
                w.WriteNullValue();
                continue;
            }

            w.WriteStartObject();
            fields(w, item);
            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    private static void StringField(Utf8JsonWriter w, string name, string? value)
    {
        if (value is not null)
        {
            w.WriteString(name, value);
        }
    }

    private static void IntField(Utf8JsonWriter w, string name, int? value)
    {
        if (value is { } v)
        {
            w.WriteNumber(name, v);
        }
    }
}
