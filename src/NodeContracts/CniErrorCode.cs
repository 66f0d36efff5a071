namespace BranchEni.Cni.Protocol;

/// <summary>Error codes of the CNI spec ("Error" section, 1.1.0); 100 and above are ours.</summary>
internal enum CniErrorCode
{
    IncompatibleVersion = 1,
    UnsupportedField = 2,
    UnknownContainer = 3,
    InvalidEnvironment = 4,
    IoFailure = 5,
    DecodeFailure = 6,
    InvalidNetworkConfig = 7,
    TryAgainLater = 11,
    PluginNotAvailable = 50,
    PluginNotAvailableLimitedConnectivity = 51,

    /// <summary>A command this build does not carry.</summary>
    NotImplemented = 100,

    /// <summary>The pod has no branch ENI and no `delegate` is configured.</summary>
    NoBranchEni = 101,

    /// <summary>The branch ENI data (record, annotation, CNI_ARGS) is inconsistent or forged.</summary>
    BranchEniRefused = 102,

    /// <summary>The trunk interface is not on the node.</summary>
    TrunkMissing = 103,

    /// <summary>The kernel refused a step (netlink error).</summary>
    KernelFailure = 104,

    /// <summary>CHECK found the kernel different from prevResult.</summary>
    CheckMismatch = 105,

    /// <summary>The delegate plugin could not be run.</summary>
    DelegateFailure = 106,

    /// <summary>The Kubernetes API answered something that is not a pod.</summary>
    ApiFailure = 107,

    /// <summary>A failure no layer anticipated (a bug): the message carries the exception type.</summary>
    InternalError = 199,
}
