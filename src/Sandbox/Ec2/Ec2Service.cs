using System.Collections.Concurrent;
using System.Text;
using System.Xml.Linq;
using BranchEni.Sandbox.Ec2.Model;
using BranchEni.Sandbox.Ec2.Protocol;
using BranchEni.Sandbox.Ec2.Throttling;
using BranchEni.Sandbox.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace BranchEni.Sandbox.Ec2;

/// <summary>Calls, throttled calls and injected faults per action, for tests and the demo to read back.</summary>
public sealed class Ec2CallCount
{
    public long Calls { get; set; }
    public long Throttled { get; set; }
    public long Faulted { get; set; }
    public long Failed { get; set; }

    /// <summary>
    /// Failed answers by EC2 error code (throttling and injected faults included), e.g. how many
    /// DeleteNetworkInterface calls answered InvalidNetworkInterfaceID.NotFound: a delete of something already gone.
    /// </summary>
    public Dictionary<string, long> Errors { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>
/// The EC2 Query API endpoint: POST / with a form body (Action, Version=2016-11-15, parameters). Order per call:
/// protocol checks, forced throttle bursts and the token bucket, injected faults, the latency model, then the
/// action itself under the state lock. Every failure is EC2's XML error document with EC2's status code.
/// </summary>
internal sealed class Ec2Service(Ec2State state, Ec2Throttle throttle, ILogger<Ec2Service> logger)
{
    public const string ApiVersion = "2016-11-15";

    private readonly ConcurrentDictionary<string, Ec2CallCount> _counts = new(StringComparer.Ordinal);

    public LatencySettings Latency { get; set; } = new();
    public FaultSettings Faults { get; set; } = new();

    public IReadOnlyDictionary<string, Ec2CallCount> Counts
    {
        get
        {
            lock (_counts)
            {
                return _counts.ToDictionary(kv => kv.Key, kv => new Ec2CallCount
                {
                    Calls = kv.Value.Calls,
                    Throttled = kv.Value.Throttled,
                    Faulted = kv.Value.Faulted,
                    Failed = kv.Value.Failed,
                    Errors = new Dictionary<string, long>(kv.Value.Errors, StringComparer.Ordinal),
                }, StringComparer.Ordinal);
            }
        }
    }

    public async Task HandleAsync(HttpContext context)
    {
        var requestId = Ec2Ids.NewRequestId();
        string? action = null;
        try
        {
            var request = await ReadAsync(context).ConfigureAwait(false);
            action = request.Action;
            var document = await ServeAsync(request, requestId, context.RequestAborted).ConfigureAwait(false);
            await WriteAsync(context, 200, document).ConfigureAwait(false);
        }
        catch (Ec2Exception e)
        {
            Count(action ?? "(none)", c =>
            {
                c.Failed++;
                c.Errors[e.Code] = c.Errors.GetValueOrDefault(e.Code) + 1;
            });
            await WriteAsync(context, e.HttpStatus, Ec2Xml.Error(e.Code, e.Message, requestId)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogError(e, "EC2 {Action} failed inside the emulator", action);
            await WriteAsync(context, 500, Ec2Xml.Error("InternalError", "An internal error has occurred", requestId)).ConfigureAwait(false);
        }
    }

    private async Task<XDocument> ServeAsync(Ec2Request request, string requestId, CancellationToken cancellationToken)
    {
        if (!Ec2Actions.Handlers.TryGetValue(request.Action, out var handler))
        {
            throw new Ec2Exception("InvalidAction", $"The action {request.Action} is not valid for this web service.");
        }

        if (request.Optional("Version") is not ApiVersion)
        {
            throw new Ec2Exception("NoSuchVersion", $"An invalid or unsupported API version was specified: '{request.Optional("Version")}' (this endpoint serves {ApiVersion})");
        }

        Count(request.Action, c => c.Calls++);
        var cls = ThrottleClassifier.Classify(request);
        if (!throttle.TryAcquire(request.Action, cls))
        {
            Count(request.Action, c => c.Throttled++);
            throw Ec2Exception.Throttled();
        }

        var fault = Faults.Actions.GetValueOrDefault(request.Action) ?? Faults.Actions.GetValueOrDefault("*");
        await Task.Delay(DelayFor(cls, fault), cancellationToken).ConfigureAwait(false);
        if (fault is not null && fault.ErrorRate > 0 && Random.Shared.NextDouble() < fault.ErrorRate)
        {
            Count(request.Action, c => c.Faulted++);
            throw new Ec2Exception(fault.ErrorCode, fault.Message, fault.HttpStatus);
        }

        if (request.Bool("DryRun") == true)
        {
            throw new Ec2Exception("DryRunOperation", "Request would have succeeded, but DryRun flag is set.", 412);
        }

        lock (state.Gate)
        {
            return handler(state, request, requestId);
        }
    }

    private TimeSpan DelayFor(ThrottleClass cls, ActionFault? fault)
    {
        var latency = Latency;
        var ms = cls is ThrottleClass.Describe or ThrottleClass.UnfilteredDescribeNetworkInterfaces
            ? latency.DescribeMilliseconds
            : latency.MutatingMilliseconds;
        ms += latency.JitterMilliseconds > 0 ? Random.Shared.Next(latency.JitterMilliseconds + 1) : 0;
        if (fault is not null && fault.LatencySpikeRate > 0 && Random.Shared.NextDouble() < fault.LatencySpikeRate)
        {
            ms += fault.LatencySpikeMilliseconds;
        }

        return TimeSpan.FromMilliseconds(Math.Max(0, ms));
    }

    private void Count(string action, Action<Ec2CallCount> update)
    {
        lock (_counts)
        {
            update(_counts.GetOrAdd(action, _ => new Ec2CallCount()));
        }
    }

    private static async Task<Ec2Request> ReadAsync(HttpContext context)
    {
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in context.Request.Query)
        {
            parameters[key] = value.ToString();
        }

        if (HttpMethods.IsPost(context.Request.Method))
        {
            if (!context.Request.HasFormContentType)
            {
                throw new Ec2Exception("InvalidParameterValue", "The request body must be application/x-www-form-urlencoded");
            }

            var form = await context.Request.ReadFormAsync(context.RequestAborted).ConfigureAwait(false);
            foreach (var (key, value) in form)
            {
                parameters[key] = value.ToString();
            }
        }
        else if (!HttpMethods.IsGet(context.Request.Method))
        {
            throw new Ec2Exception("InvalidHttpRequest", $"The HTTP method {context.Request.Method} is not supported", 405);
        }

        var action = parameters.GetValueOrDefault("Action");
        if (string.IsNullOrEmpty(action))
        {
            throw new Ec2Exception("MissingAction", "The request must contain the parameter Action");
        }

        return new Ec2Request(action, parameters);
    }

    private static async Task WriteAsync(HttpContext context, int status, XDocument document)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/xml;charset=UTF-8";
        var body = Encoding.UTF8.GetBytes("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + document.ToString(SaveOptions.DisableFormatting));
        await context.Response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
    }
}
