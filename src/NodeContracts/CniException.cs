namespace BranchEni.Cni.Protocol;

/// <summary>
/// The one exception type of the plugin's protocol layer: it carries the spec code, a message naming what is wrong,
/// and optional details. <c>CniResponses.WriteError</c> turns it into the spec's error JSON.
/// </summary>
internal sealed class CniException(CniErrorCode code, string message, string? details = null) : Exception(message)
{
    public CniErrorCode Code { get; } = code;

    public string? Details { get; } = details;
}
