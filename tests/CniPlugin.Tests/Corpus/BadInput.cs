namespace BranchEni.Cni.Tests.Corpus;

/// <summary>One bad input: what to change from a valid ADD of a branch pod, and the spec code it must earn.</summary>
public sealed record BadInput(string Name, int Code)
{
    public string Command { get; init; } = "ADD";

    /// <summary>Edits of the valid config: field to JSON value, or null to remove the field.</summary>
    public IReadOnlyDictionary<string, string?> Config { get; init; } = new Dictionary<string, string?>();

    /// <summary>The whole stdin instead of the edited config.</summary>
    public string? RawConfig { get; init; }

    /// <summary>CNI_ARGS; null: the valid pod's.</summary>
    public string? Args { get; init; }

    /// <summary>Environment edits: variable to value, or null to unset it.</summary>
    public IReadOnlyDictionary<string, string?> Env { get; init; } = new Dictionary<string, string?>();

    /// <summary>The node record for this case's pod (raw file text); null: none.</summary>
    public string? Record { get; init; }

    /// <summary>The pod the API returns for this case (raw JSON); null: not found.</summary>
    public string? ApiPod { get; init; }

    /// <summary>Run with a kubeconfig pointing at the fake API (and no node record for the pod).</summary>
    public bool Api { get; init; }

    /// <summary>Text the error message must contain (the field or variable it names).</summary>
    public string? Names { get; init; }
}
