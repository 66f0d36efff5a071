using System.Diagnostics;
using System.Text.Json;
using BranchEni.Cni.Config;
using BranchEni.Cni.Protocol;
using BranchEni.Policy;

namespace BranchEni.Cni.Selection;

/// <summary>
/// Reads a pod by running branch-eni-kube (KubeReader/), installed beside this binary, with the kubeconfig, namespace
/// and name as arguments. The Kubernetes client and HttpClient live in that executable, not in this one: carrying them
/// doubled the plugin's size and (measured when it was a PIE with dehydrated data, set up in full at every start) its
/// start time on every ADD and DEL, while only pods without a node record need the API.
/// </summary>
internal sealed class ExecPodReader(string reader, string kubeconfig, MetadataAccess? defaultMetadataAccess = null) : IPodReader
{
    public const string FileName = "branch-eni-kube";

    /// <summary>Generous next to the reader's own 10 s HTTP timeout; a credential plugin could hang.</summary>
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>branch-eni-kube in this executable's directory.</summary>
    public static string Beside => Path.Combine(AppContext.BaseDirectory, FileName);

    /// <summary>The installed reader, with the plugin config's cluster default for metadata access (ADD and CHECK alike).</summary>
    public static ExecPodReader Installed(string kubeconfig, PluginConfig config) => new(Beside, kubeconfig, config.DefaultPodMetadataAccess);

    public PodFacts Read(string podNamespace, string podName)
    {
        if (!File.Exists(reader))
        {
            throw new CniException(CniErrorCode.IoFailure,
                $"cannot read pod {podNamespace}/{podName} from the API: {reader} is missing (it is installed beside branch-eni)");
        }

        string[] arguments = defaultMetadataAccess is { } access ? [kubeconfig, podNamespace, podName, access.ToString()] : [kubeconfig, podNamespace, podName];
        var psi = new ProcessStartInfo(reader, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(psi) ?? throw new CniException(CniErrorCode.IoFailure, $"cannot start {reader}");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(Timeout))
        {
            process.Kill();
            throw new CniException(CniErrorCode.TryAgainLater, $"reading pod {podNamespace}/{podName} from the API took longer than {Timeout.TotalSeconds:0} s");
        }

        process.WaitForExit(); // drains the redirected streams
        var output = stdout.GetAwaiter().GetResult();
        return process.ExitCode == 0
            ? Decode(output, PodReaderJsonContext.Default.PodFacts) ?? throw Garbled(output, stderr.GetAwaiter().GetResult())
            : throw (Decode(output, PodReaderJsonContext.Default.PodReadError) is { } error
                ? new CniException((CniErrorCode)error.Code, error.Msg, error.Details)
                : Garbled(output, stderr.GetAwaiter().GetResult()));
    }

    private static T? Decode<T>(string output, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
        where T : class
    {
        try
        {
            return output.Length == 0 ? null : JsonSerializer.Deserialize(output, type);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private CniException Garbled(string stdout, string stderr) =>
        new(CniErrorCode.InternalError, $"{reader} answered something that is not a pod or an error", $"{stdout} {stderr}".Trim());
}
