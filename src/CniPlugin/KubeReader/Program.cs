using System.Text.Json;
using BranchEni.Cni.Protocol;
using BranchEni.Cni.Selection;
using BranchEni.Policy;

namespace BranchEni.Cni.KubeReader;

/// <summary>
/// `branch-eni-kube KUBECONFIG NAMESPACE NAME [DEFAULT_METADATA_ACCESS]`: the branch-eni plugin's Kubernetes API read, a separate executable so
/// the plugin itself carries no Kubernetes client or HTTP stack (see ExecPodReader). Prints the pod's facts as JSON and
/// exits 0; on failure prints the CNI error the plugin should answer with (code, msg, details) and exits 1.
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        using var stdout = Console.OpenStandardOutput();
        try
        {
            if (args.Length is not (3 or 4))
            {
                throw new CniException(CniErrorCode.InternalError, "usage: branch-eni-kube KUBECONFIG NAMESPACE NAME [Allowed|Denied]");
            }

            MetadataAccess? defaultAccess = args.Length == 4
                ? MetadataAccessPolicy.FromExactName(args[3])
                    ?? throw new CniException(CniErrorCode.InvalidNetworkConfig, $"the default metadata access '{args[3]}' is not Allowed or Denied")
                : null;
            using var reader = new KubernetesPodReader(args[0]);
            JsonSerializer.Serialize(stdout, reader.Read(args[1], args[2], defaultAccess), PodReaderJsonContext.Default.PodFacts);
            return 0;
        }
        catch (Exception e)
        {
            var error = e as CniException ?? new CniException(CniErrorCode.InternalError, $"unexpected {e.GetType().Name}: {e.Message}", e.StackTrace);
            JsonSerializer.Serialize(stdout, new PodReadError((int)error.Code, error.Message, error.Details), PodReaderJsonContext.Default.PodReadError);
            return 1;
        }
    }
}
