using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace BranchEni.Contracts;

/// <summary>
/// The node-local records the agent writes and the CNI reads (DESIGN.md §2): `trunk.json`, `pods/&lt;uid&gt;.json` and
/// `decisions/&lt;uid&gt;.json` under one directory (default /run/branch-eni). Writes are atomic (temp file + rename) with mode 0600, so a reader
/// sees the old record or the new one, never half of one.
/// </summary>
internal sealed class NodeRecords(string directory)
{
    public const string DefaultDirectory = "/run/branch-eni";

    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public string Directory { get; } = directory;

    public string TrunkPath => Path.Combine(Directory, "trunk.json");

    public string PodsDirectory => Path.Combine(Directory, "pods");

    public string DecisionsDirectory => Path.Combine(Directory, "decisions");

    public TrunkRecord? ReadTrunk() => Read(TrunkPath, static json => ContractsJsonCodec.ReadTrunk(json));

    public void WriteTrunk(TrunkRecord trunk) => Write(TrunkPath, trunk, ContractsJsonContext.Default.TrunkRecord);

    /// <summary>The record for a pod UID, or null when the agent has none.</summary>
    public PodRecord? ReadPod(string podUid) => Read(PodPath(podUid), static json => ContractsJsonCodec.ReadPod(json));

    public void WritePod(PodRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        Write(PodPath(record.PodUid ?? throw new ArgumentException("a pod record needs podUid", nameof(record))),
            record, ContractsJsonContext.Default.PodRecord);
    }

    /// <summary>Deletes a pod's record; a missing one is fine.</summary>
    public void DeletePod(string podUid) => File.Delete(PodPath(podUid));

    /// <summary>The agent's decision for a pod UID, or null when it has made none (yet).</summary>
    public PodDecision? ReadDecision(string podUid) => Read(DecisionPath(podUid), static json => ContractsJsonCodec.ReadDecision(json));

    public void WriteDecision(PodDecision decision)
    {
        ArgumentNullException.ThrowIfNull(decision);
        Write(DecisionPath(decision.PodUid ?? throw new ArgumentException("a decision needs podUid", nameof(decision))),
            decision, ContractsJsonContext.Default.PodDecision);
    }

    /// <summary>Deletes a pod's decision; a missing one is fine.</summary>
    public void DeleteDecision(string podUid) => File.Delete(DecisionPath(podUid));

    /// <summary>The pod UIDs that have a decision file.</summary>
    public IEnumerable<string> ListDecisionUids() =>
        System.IO.Directory.Exists(DecisionsDirectory)
            ? System.IO.Directory.EnumerateFiles(DecisionsDirectory, "*.json").Select(Path.GetFileNameWithoutExtension).OfType<string>()
            : [];

    /// <summary>Every pod record, skipping temp files; a record that does not parse is reported, not hidden.</summary>
    public IEnumerable<(string PodUid, PodRecord? Record, string? Error)> ListPods()
    {
        if (!System.IO.Directory.Exists(PodsDirectory))
        {
            yield break;
        }

        foreach (var path in System.IO.Directory.EnumerateFiles(PodsDirectory, "*.json"))
        {
            var uid = Path.GetFileNameWithoutExtension(path);
            PodRecord? record = null;
            string? error = null;
            try
            {
                record = Read(path, static json => ContractsJsonCodec.ReadPod(json));
            }
            catch (InvalidDataException e)
            {
                error = e.Message;
            }

            yield return (uid, record, error);
        }
    }

    public string PodPath(string podUid) => UidPath(PodsDirectory, podUid);

    public string DecisionPath(string podUid) => UidPath(DecisionsDirectory, podUid);

    private static string UidPath(string directory, string podUid)
    {
        // A UID is a path component here: refuse anything that could step outside the pods directory.
        if (string.IsNullOrEmpty(podUid) || podUid.Length > 128 || podUid.AsSpan().ContainsAnyExcept(UidChars))
        {
            throw new ArgumentException($"'{podUid}' is not a pod UID", nameof(podUid));
        }

        return Path.Combine(directory, podUid + ".json");
    }

    private static readonly System.Buffers.SearchValues<char> UidChars =
        System.Buffers.SearchValues.Create("0123456789abcdefABCDEF-");

    private static T? Read<T>(string path, Func<byte[], T?> decode)
        where T : class
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }

        try
        {
            return decode(bytes) ?? throw new InvalidDataException($"{path} holds null");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is not a valid record: {e.Message}", e);
        }
    }

    private static void Write<T>(string path, T value, JsonTypeInfo<T> type)
    {
        var dir = Path.GetDirectoryName(path)!;
        System.IO.Directory.CreateDirectory(dir);
        var temp = Path.Combine(dir, $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var file = new FileStream(temp, new FileStreamOptions
                   {
                       Mode = FileMode.CreateNew,
                       Access = FileAccess.Write,
                       UnixCreateMode = OwnerOnly,
                   }))
            {
                JsonSerializer.Serialize(file, value, type);
                file.Flush(flushToDisk: true);
            }

            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }
}
