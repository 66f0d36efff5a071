using Microsoft.AspNetCore.Http;

namespace BranchEni.Sandbox.Kubernetes;

/// <summary>The Kubernetes API endpoint (placeholder until the Kubernetes part lands).</summary>
internal sealed class KubernetesService(KubernetesStore store)
{
    public KubernetesStore Store { get; } = store;

    public async Task HandleAsync(HttpContext context)
    {
        context.Response.StatusCode = 404;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(
            """{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"not served yet","reason":"NotFound","code":404}""",
            context.RequestAborted).ConfigureAwait(false);
    }
}
