using Microsoft.AspNetCore.Http;

namespace BranchEni.Sandbox.Kubernetes.Tables;

/// <summary>What each Table row carries besides its cells (the includeObject query parameter).</summary>
internal enum RowObject
{
    None,
    PartialObjectMetadata,
    Object,
}

/// <summary>
/// A client asking for server-side printing: kubectl get sends
/// <c>Accept: application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json</c>
/// and prints whatever columns the Table carries; a plain list would leave it only the name and the age.
/// </summary>
internal sealed record TableRequest(string ApiVersion, RowObject Row)
{
    /// <summary>The Table the request prefers, or null when its first media type we serve is plain JSON.</summary>
    public static TableRequest? From(HttpRequest request)
    {
        foreach (var range in request.Headers.Accept.SelectMany(h => (h ?? "").Split(',')))
        {
            var parts = range.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0 || parts[0] is not ("application/json" or "application/*" or "*/*"))
            {
                continue;
            }

            var parameters = parts.Skip(1).Select(p => p.Split('=', 2)).Where(kv => kv.Length == 2)
                .ToDictionary(kv => kv[0].ToLowerInvariant(), kv => kv[1], StringComparer.Ordinal);
            if (!parameters.TryGetValue("as", out var kind))
            {
                return null;
            }

            if (kind == "Table" && parameters.GetValueOrDefault("g") == "meta.k8s.io" && parameters.GetValueOrDefault("v") is "v1" or "v1beta1")
            {
                return new TableRequest($"meta.k8s.io/{parameters["v"]}", RowObjectOf(request.Query["includeObject"].ToString()));
            }
        }

        return null;
    }

    private static RowObject RowObjectOf(string value) => value switch
    {
        "" or "Metadata" => RowObject.PartialObjectMetadata,
        "None" => RowObject.None,
        "Object" => RowObject.Object,
        _ => throw KubeException.BadRequest($"includeObject: unsupported value \"{value}\" (None, Metadata, Object)"),
    };
}
