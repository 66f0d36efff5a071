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

    /// <summary>A command this build does not carry yet.</summary>
    NotImplemented = 100,
}
