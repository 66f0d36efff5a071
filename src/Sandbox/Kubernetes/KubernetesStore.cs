using System.Globalization;
using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace BranchEni.Sandbox.Kubernetes;

/// <summary>A change as watchers see it; the object is a snapshot taken at that resourceVersion.</summary>
internal sealed record WatchEvent(long ResourceVersion, string Type, ResourceType Resource, string Namespace, JsonObject Object);

/// <summary>One open watch: its filter and the channel the store writes matching events to.</summary>
internal sealed class Watcher(ResourceType type, string? ns, Func<JsonObject, bool> matches)
{
    public ResourceType Type { get; } = type;
    public string? Namespace { get; } = ns;
    public Func<JsonObject, bool> Matches { get; } = matches;
    public Channel<WatchEvent> Events { get; } = Channel.CreateUnbounded<WatchEvent>();
}

/// <summary>
/// The API server's storage: objects per resource type keyed "namespace/name", one global resourceVersion
/// counter (like etcd's revision), a bounded history of changes for watches that resume from a version, and
/// the open watchers. Every method is atomic under one lock; objects handed out are deep copies.
/// </summary>
internal sealed partial class KubernetesStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<ResourceType, SortedDictionary<string, JsonObject>> _objects = [];
    private readonly LinkedList<WatchEvent> _history = new();
    private readonly List<Watcher> _watchers = [];
    private long _revision;
    private long _compactedThrough;

    public KubernetesStore(Seed.SandboxSeed seed, SeedObjects.InstanceFacts facts, int historyLimit = 1000)
    {
        HistoryLimit = historyLimit;
        foreach (var type in ResourceTypes.All)
        {
            _objects[type] = new SortedDictionary<string, JsonObject>(StringComparer.Ordinal);
        }

        SeedObjects.Apply(this, seed, facts);
    }

    public int HistoryLimit { get; }

    public long Revision
    {
        get
        {
            lock (_gate)
            {
                return _revision;
            }
        }
    }

    public static string Key(string? ns, string name) => $"{ns ?? ""}/{name}";

    public JsonObject Get(ResourceType type, string? ns, string name)
    {
        lock (_gate)
        {
            return (JsonObject)Find(type, ns, name).DeepClone();
        }
    }

    /// <summary>The matching objects in key order and the revision the list reflects.</summary>
    public (List<JsonObject> Items, long Revision) List(ResourceType type, string? ns, Func<JsonObject, bool> matches)
    {
        lock (_gate)
        {
            var items = _objects[type].Values
                .Where(o => ns is null || Meta.Namespace(o) == ns)
                .Where(matches)
                .Select(o => (JsonObject)o.DeepClone())
                .ToList();
            return (items, _revision);
        }
    }

    /// <summary>
    /// Registers a watcher and returns the events it must see first: every current object as ADDED when no version
    /// is given, else the history after that version. A version older than the retained history is 410 Expired.
    /// </summary>
    public (Watcher Watcher, List<WatchEvent> Initial) Watch(ResourceType type, string? ns, long? fromRevision, Func<JsonObject, bool> matches)
    {
        var watcher = new Watcher(type, ns, matches);
        lock (_gate)
        {
            List<WatchEvent> initial;
            if (fromRevision is not { } from || from == 0)
            {
                initial = _objects[type].Values
                    .Where(o => (ns is null || Meta.Namespace(o) == ns) && matches(o))
                    .Select(o => new WatchEvent(Meta.Revision(o), "ADDED", type, Meta.Namespace(o), (JsonObject)o.DeepClone()))
                    .ToList();
            }
            else if (from < _compactedThrough)
            {
                throw new KubeException(410, "Expired", $"too old resource version: {from} ({_compactedThrough})");
            }
            else
            {
                initial = _history.Where(e => e.ResourceVersion > from && Accepts(watcher, e)).ToList();
            }

            _watchers.Add(watcher);
            return (watcher, initial);
        }
    }

    public void Unwatch(Watcher watcher)
    {
        lock (_gate)
        {
            _watchers.Remove(watcher);
        }

        watcher.Events.Writer.TryComplete();
    }

    /// <summary>Forgets the change history (watches from any earlier version then get 410), as etcd compaction does.</summary>
    public void Compact()
    {
        lock (_gate)
        {
            _history.Clear();
            _compactedThrough = _revision;
        }
    }

    /// <summary>Ends every open watch, so server shutdown does not wait for clients to hang up.</summary>
    public void Shutdown()
    {
        lock (_gate)
        {
            foreach (var w in _watchers)
            {
                w.Events.Writer.TryComplete();
            }

            _watchers.Clear();
        }
    }

    private JsonObject Find(ResourceType type, string? ns, string name) =>
        _objects[type].GetValueOrDefault(Key(type.Namespaced ? ns : null, name)) ?? throw KubeException.NotFound(type, name);

    private static bool Accepts(Watcher w, WatchEvent e) =>
        w.Type == e.Resource && (w.Namespace is null || w.Namespace == e.Namespace) && w.Matches(e.Object);

    /// <summary>Stores the object under a new revision and tells history and watchers. Caller holds the lock.</summary>
    private JsonObject Commit(ResourceType type, string eventType, JsonObject obj)
    {
        var revision = ++_revision;
        Meta.Metadata(obj)["resourceVersion"] = revision.ToString(CultureInfo.InvariantCulture);
        var key = Key(type.Namespaced ? Meta.Namespace(obj) : null, Meta.Name(obj));
        if (eventType == "DELETED")
        {
            _objects[type].Remove(key);
        }
        else
        {
            _objects[type][key] = obj;
        }

        var e = new WatchEvent(revision, eventType, type, Meta.Namespace(obj), (JsonObject)obj.DeepClone());
        _history.AddLast(e);
        while (_history.Count > HistoryLimit)
        {
            _compactedThrough = _history.First!.Value.ResourceVersion;
            _history.RemoveFirst();
        }

        foreach (var w in _watchers.Where(w => Accepts(w, e)))
        {
            w.Events.Writer.TryWrite(e);
        }

        return (JsonObject)obj.DeepClone();
    }
}
