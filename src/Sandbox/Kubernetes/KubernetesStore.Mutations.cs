using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace BranchEni.Sandbox.Kubernetes;

/// <summary>Create, update (PUT and PATCH, whole object or /status), delete, with optimistic concurrency.</summary>
internal sealed partial class KubernetesStore
{
    public JsonObject Create(ResourceType type, string? ns, JsonObject obj)
    {
        lock (_gate)
        {
            return CommitCreate(type, PrepareCreate(type, ns, obj));
        }
    }

    /// <summary>
    /// What a create would store, checked but not stored: the name (from generateName), identity fields and defaults
    /// filled in, validated, not a duplicate. The API server's validating admission sees this object.
    /// </summary>
    public JsonObject PrepareCreate(ResourceType type, string? ns, JsonObject obj)
    {
        lock (_gate)
        {
            var meta = Meta.Metadata(obj);
            if (Meta.Name(obj).Length == 0 && Meta.Str(meta, "generateName") is { Length: > 0 } prefix)
            {
                meta["name"] = prefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))[..5];
            }

            var name = Meta.Name(obj);
            Defaults.OnWrite(type, obj);
            Validation.Check(type, obj, name);
            if (type.Namespaced)
            {
                RequireNamespace(ns!);
                meta["namespace"] = ns;
            }
            else
            {
                meta.Remove("namespace");
            }

            if (_objects[type].ContainsKey(Key(type.Namespaced ? ns : null, name)))
            {
                throw KubeException.AlreadyExists(type, name);
            }

            obj["apiVersion"] = type.GroupVersion;
            obj["kind"] = type.Kind;
            meta["uid"] = Guid.NewGuid().ToString();
            meta["creationTimestamp"] = Meta.Now();
            meta["generation"] = 1;
            meta.Remove("resourceVersion");
            Defaults.Apply(type, obj);
            return (JsonObject)obj.DeepClone();
        }
    }

    /// <summary>Stores what <see cref="PrepareCreate"/> made, unless the name was taken in between.</summary>
    public JsonObject CommitCreate(ResourceType type, JsonObject prepared)
    {
        lock (_gate)
        {
            var name = Meta.Name(prepared);
            if (_objects[type].ContainsKey(Key(type.Namespaced ? Meta.Namespace(prepared) : null, name)))
            {
                throw KubeException.AlreadyExists(type, name);
            }

            var created = Commit(type, "ADDED", (JsonObject)prepared.DeepClone());
            if (type == ResourceTypes.Namespaces)
            {
                // The service account controller gives every namespace its "default" account.
                Commit(ResourceTypes.ServiceAccounts, "ADDED", Defaults.ServiceAccount(name));
            }

            return created;
        }
    }

    /// <summary>
    /// Replaces an object with what <paramref name="change"/> makes of a copy of the current one (see
    /// <see cref="PrepareUpdate"/>), in one step: the path without admission.
    /// </summary>
    public JsonObject Update(ResourceType type, string? ns, string name, bool statusOnly, Func<JsonObject, JsonObject> change)
    {
        lock (_gate)
        {
            var current = Find(type, ns, name);
            var next = change((JsonObject)current.DeepClone());
            return CommitUpdate(type, current, PrepareUpdate(type, current, next, statusOnly));
        }
    }

    /// <summary>
    /// What replacing <paramref name="current"/> (as read from the store) by <paramref name="next"/> would store. A
    /// resourceVersion or uid in <paramref name="next"/> that differs from <paramref name="current"/> is a 409, as the
    /// API server's preconditions are. For /status only the status changes; for the main resource of a type with a
    /// status subresource, status is kept.
    /// </summary>
    public JsonObject PrepareUpdate(ResourceType type, JsonObject current, JsonObject next, bool statusOnly)
    {
        var name = Meta.Name(current);
        var ns = type.Namespaced ? Meta.Namespace(current) : null;
        var meta = Meta.Metadata(next);
        if (Meta.Str(meta, "resourceVersion") is { Length: > 0 } rv && rv != Meta.Str(current, "metadata", "resourceVersion"))
        {
            throw KubeException.Conflict(type, name, "the object has been modified; please apply your changes to the latest version and try again");
        }

        if (Meta.Str(meta, "uid") is { Length: > 0 } uid && uid != Meta.Str(current, "metadata", "uid"))
        {
            throw KubeException.Conflict(type, name, $"Precondition failed: UID in precondition: {uid}, UID in object meta: {Meta.Str(current, "metadata", "uid")}");
        }

        if (Meta.Name(next) != name || (type.Namespaced && Meta.Str(meta, "namespace") is { } n && n != ns))
        {
            throw KubeException.BadRequest("the name or namespace of the object does not match the request");
        }

        JsonObject result;
        if (statusOnly)
        {
            result = (JsonObject)current.DeepClone();
            result["status"] = next["status"]?.DeepClone();
        }
        else
        {
            result = (JsonObject)next.DeepClone();
            if (type.HasStatus)
            {
                result["status"] = current["status"]?.DeepClone();
            }

            Defaults.OnWrite(type, result);
            Validation.Check(type, result, name);
        }

        // Identity fields are the server's, whatever the client sent.
        var resultMeta = Meta.Metadata(result);
        foreach (var field in new[] { "uid", "creationTimestamp", "namespace", "name", "resourceVersion" })
        {
            resultMeta[field] = current["metadata"]?[field]?.DeepClone();
        }

        result["apiVersion"] = type.GroupVersion;
        result["kind"] = type.Kind;
        var generation = current["metadata"]?["generation"]?.GetValue<int>() ?? 1;
        resultMeta["generation"] = JsonNode.DeepEquals(current["spec"], result["spec"]) ? generation : generation + 1;
        return result;
    }

    /// <summary>
    /// Stores what <see cref="PrepareUpdate"/> made from <paramref name="current"/>. When the stored object is no longer
    /// that version (a write came in between, e.g. while webhooks were called) this throws <see cref="StaleUpdateException"/>
    /// and the caller starts again from the stored object, as the API server's update loop does.
    /// </summary>
    public JsonObject CommitUpdate(ResourceType type, JsonObject current, JsonObject result)
    {
        lock (_gate)
        {
            var stored = Find(type, Meta.Namespace(current), Meta.Name(current));
            if (Meta.Str(stored, "metadata", "resourceVersion") != Meta.Str(current, "metadata", "resourceVersion"))
            {
                throw new StaleUpdateException();
            }

            return JsonNode.DeepEquals(stored, result) ? (JsonObject)stored.DeepClone() : Commit(type, "MODIFIED", (JsonObject)result.DeepClone());
        }
    }

    /// <summary>Deletes an object (and a namespace's contents); a dry run checks the preconditions and changes nothing.</summary>
    public JsonObject Delete(ResourceType type, string? ns, string name, string? uid, string? resourceVersion, bool dryRun = false)
    {
        lock (_gate)
        {
            var current = Find(type, ns, name);
            if (uid is not null && uid != Meta.Str(current, "metadata", "uid"))
            {
                throw KubeException.Conflict(type, name, $"Precondition failed: UID in precondition: {uid}, UID in object meta: {Meta.Str(current, "metadata", "uid")}");
            }

            if (resourceVersion is not null && resourceVersion != Meta.Str(current, "metadata", "resourceVersion"))
            {
                throw KubeException.Conflict(type, name, "the ResourceVersion in the precondition does not match the ResourceVersion in record");
            }

            if (dryRun)
            {
                return (JsonObject)current.DeepClone();
            }

            if (type == ResourceTypes.Namespaces)
            {
                foreach (var t in ResourceTypes.All.Where(t => t.Namespaced))
                {
                    foreach (var o in _objects[t].Values.Where(o => Meta.Namespace(o) == name).ToList())
                    {
                        Commit(t, "DELETED", o);
                    }
                }
            }

            return Commit(type, "DELETED", current);
        }
    }

    private void RequireNamespace(string ns)
    {
        if (!_objects[ResourceTypes.Namespaces].ContainsKey(Key(null, ns)))
        {
            throw KubeException.NotFound(ResourceTypes.Namespaces, ns);
        }
    }
}

/// <summary>The stored object changed between reading it and writing the update made from it; read again and retry.</summary>
internal sealed class StaleUpdateException() : Exception("the object changed while the update was being prepared");
