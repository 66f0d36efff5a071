using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using BranchEni.Sandbox.Ec2;
using BranchEni.Sandbox.Hosting;
using BranchEni.Sandbox.Seed;
using Microsoft.AspNetCore.Http;

namespace BranchEni.Sandbox.Admin;

/// <summary>
/// The admin endpoint (JSON): fault injection, throttling and latency settings, throttle bursts, call counts,
/// an EC2 state snapshot and launching instances at runtime. Bad input is a 400 with {"error": …} and changes nothing.
/// </summary>
internal sealed class AdminService(SandboxAdmin admin)
{
    public async Task HandleAsync(HttpContext context)
    {
        var method = context.Request.Method;
        var path = context.Request.Path.Value?.TrimEnd('/') ?? "";
        try
        {
            await (path switch
            {
                "/healthz" => Write(context, 200, new AdminMessage { Message = "ok" }, AdminJsonContext.Default.AdminMessage),
                "/ec2/faults" when HttpMethods.IsDelete(method) => Apply(context, () => admin.Faults = new FaultSettings()),
                "/ec2/faults" => GetOrPut(context, () => admin.Faults, v => admin.Faults = v, AdminJsonContext.Default.FaultSettings),
                "/ec2/throttling" => GetOrPut(context, () => admin.Throttling, v => admin.Throttling = v, AdminJsonContext.Default.ThrottleSettings),
                "/ec2/latency" => GetOrPut(context, () => admin.Latency, v => admin.Latency = v, AdminJsonContext.Default.LatencySettings),
                "/ec2/throttle-burst" when HttpMethods.IsPost(method) =>
                    ReadThen(context, AdminJsonContext.Default.ThrottleBurst, admin.AddThrottleBurst),
                "/ec2/calls" when HttpMethods.IsGet(method) =>
                    Write(context, 200, admin.CallCounts.ToDictionary(StringComparer.Ordinal), AdminJsonContext.Default.DictionaryStringEc2CallCount),
                "/ec2/state" when HttpMethods.IsGet(method) => Write(context, 200, admin.Snapshot(), AdminJsonContext.Default.Ec2Snapshot),
                "/kubernetes/compact" when HttpMethods.IsPost(method) => Apply(context, admin.CompactKubernetesHistory),
                "/ec2/instances" when HttpMethods.IsPost(method) =>
                    ReadThen(context, AdminJsonContext.Default.InstanceSeed, i => admin.AddInstance(i, context.Request.Query["nodeName"].ToString() is { Length: > 0 } n ? n : null)),
                _ when HttpMethods.IsPost(method) && TerminateTarget(path) is { } id =>
                    Write(context, 200, admin.TerminateInstance(id), AdminJsonContext.Default.TerminationReport),
                "/imds/instance" when HttpMethods.IsPut(method) =>
                    ReadThen(context, AdminJsonContext.Default.ImdsTarget, t => admin.ImdsInstanceId = t.InstanceId),
                _ => Write(context, 404, new AdminMessage { Error = $"no admin operation {method} {path}" }, AdminJsonContext.Default.AdminMessage),
            }).ConfigureAwait(false);
        }
        catch (KeyNotFoundException e)
        {
            await Write(context, 404, new AdminMessage { Error = e.Message }, AdminJsonContext.Default.AdminMessage).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ArgumentException or JsonException or FormatException or InvalidOperationException)
        {
            await Write(context, 400, new AdminMessage { Error = e.Message }, AdminJsonContext.Default.AdminMessage).ConfigureAwait(false);
        }
    }

    /// <summary>The instance id of <c>/ec2/instances/{id}/terminate</c>, or null for any other path.</summary>
    private static string? TerminateTarget(string path)
    {
        const string prefix = "/ec2/instances/", suffix = "/terminate";
        return path.StartsWith(prefix, StringComparison.Ordinal) && path.EndsWith(suffix, StringComparison.Ordinal)
            && path.Length > prefix.Length + suffix.Length
            && path[prefix.Length..^suffix.Length] is var id && !id.Contains('/', StringComparison.Ordinal)
            ? Uri.UnescapeDataString(id)
            : null;
    }

    private static Task GetOrPut<T>(HttpContext context, Func<T> get, Action<T> set, JsonTypeInfo<T> type)
        where T : class
    {
        if (HttpMethods.IsGet(context.Request.Method))
        {
            return Write(context, 200, get(), type);
        }

        return HttpMethods.IsPut(context.Request.Method)
            ? ReadThen(context, type, set)
            : Write(context, 405, new AdminMessage { Error = "use GET or PUT" }, AdminJsonContext.Default.AdminMessage);
    }

    private static async Task ReadThen<T>(HttpContext context, JsonTypeInfo<T> type, Action<T> apply)
        where T : class
    {
        var value = await JsonSerializer.DeserializeAsync(context.Request.Body, type, context.RequestAborted).ConfigureAwait(false)
            ?? throw new ArgumentException("the body is empty (null)");
        apply(value);
        await Write(context, 200, new AdminMessage { Message = "ok" }, AdminJsonContext.Default.AdminMessage).ConfigureAwait(false);
    }

    private static Task Apply(HttpContext context, Action apply)
    {
        apply();
        return Write(context, 200, new AdminMessage { Message = "ok" }, AdminJsonContext.Default.AdminMessage);
    }

    private static async Task Write<T>(HttpContext context, int status, T value, JsonTypeInfo<T> type)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(context.Response.Body, value, type, context.RequestAborted).ConfigureAwait(false);
    }
}

internal sealed class AdminMessage
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Message { get; set; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Error { get; set; }
}

/// <summary>PUT /imds/instance: which instance IMDS describes.</summary>
internal sealed class ImdsTarget
{
    public string? InstanceId { get; set; }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    WriteIndented = true)]
[JsonSerializable(typeof(AdminMessage))]
[JsonSerializable(typeof(ImdsTarget))]
[JsonSerializable(typeof(FaultSettings))]
[JsonSerializable(typeof(ThrottleSettings))]
[JsonSerializable(typeof(LatencySettings))]
[JsonSerializable(typeof(ThrottleBurst))]
[JsonSerializable(typeof(InstanceSeed))]
[JsonSerializable(typeof(Ec2Snapshot))]
[JsonSerializable(typeof(TerminationReport))]
[JsonSerializable(typeof(Dictionary<string, Ec2CallCount>))]
internal sealed partial class AdminJsonContext : JsonSerializerContext;
