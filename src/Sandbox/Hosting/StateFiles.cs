using System.Text.Json;
using System.Text.Json.Serialization;

namespace BranchEni.Sandbox.Hosting;

/// <summary>
/// The files the process contract promises in the state directory: endpoints.json (for scripts and tests) and a
/// kubeconfig for kubectl and KubernetesClient. Both are written atomically (temp file + rename), so a reader
/// that sees endpoints.json sees a complete one, and its presence means every listener is ready.
/// </summary>
internal static class StateFiles
{
    public const string EndpointsFile = "endpoints.json";
    public const string KubeconfigFile = "kubeconfig";

    public static void Write(string directory, SandboxEndpoints endpoints, SandboxIdentities identities)
    {
        Directory.CreateDirectory(directory);
        WriteAtomically(Path.Combine(directory, KubeconfigFile), Kubeconfig(endpoints.Kubernetes, identities, SandboxIdentities.AdminContext));
        var json = JsonSerializer.Serialize(
            new EndpointsDocument
            {
                Ec2 = Origin(endpoints.Ec2),
                Imds = Origin(endpoints.Imds),
                Kubernetes = Origin(endpoints.Kubernetes),
                Admin = Origin(endpoints.Admin),
                ImdsByInstance = new SortedDictionary<string, string>(
                    endpoints.ImdsByInstance.ToDictionary(kv => kv.Key, kv => Origin(kv.Value), StringComparer.Ordinal), StringComparer.Ordinal),
            },
            StateFilesJsonContext.Default.EndpointsDocument);
        WriteAtomically(Path.Combine(directory, EndpointsFile), json + "\n");
    }

    /// <summary>Removes endpoints.json so nobody mistakes a stopped (or not yet ready) sandbox for a running one.</summary>
    public static void RemoveEndpoints(string directory)
    {
        File.Delete(Path.Combine(directory, EndpointsFile));
    }

    /// <summary>
    /// One cluster, and per identity a user (its bearer token) and a context of the same name. Admin's user comes first:
    /// tools/demo/tutorial.sh takes the first token in the file for its curl calls.
    /// </summary>
    public static string Kubeconfig(Uri server, SandboxIdentities identities, string currentContext)
    {
        var users = string.Concat(identities.All.Select(i => $"""
            - name: {i.Context}
              user:
                token: {i.Token}
            {Impersonation(identities, i)}
            """));
        var contexts = string.Concat(identities.All.Select(i => $"""
            - name: {i.Context}
              context:
                cluster: branch-eni-sandbox
                user: {i.Context}
                namespace: default

            """));
        return $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: branch-eni-sandbox
              cluster:
                server: {Origin(server)}
            users:
            {users}contexts:
            {contexts}current-context: {identities[currentContext].Context}
            preferences: {"{}"}

            """;
    }

    /// <summary>
    /// kubectl withholds bearer tokens from plain-http servers, so a context other than admin also says who it is as
    /// impersonation (as, as-groups, as-uid), which kubectl does send; KubernetesClient sends the token.
    /// </summary>
    private static string Impersonation(SandboxIdentities identities, SandboxIdentity identity)
    {
        if (identity == identities.Admin)
        {
            return "";
        }

        var text = new System.Text.StringBuilder();
        text.Append($"    as: {identity.UserName}\n    as-groups:\n");
        foreach (var group in identity.Groups)
        {
            text.Append($"    - {group}\n");
        }

        if (identity.Uid is { } uid)
        {
            text.Append($"    as-uid: {uid}\n");
        }

        return text.ToString();
    }

    private static string Origin(Uri uri) => uri.GetLeftPart(UriPartial.Authority);

    private static void WriteAtomically(string path, string content)
    {
        var temp = $"{path}.{Environment.ProcessId}.tmp";
        File.WriteAllText(temp, content);
        File.Move(temp, path, overwrite: true);
    }
}

internal sealed class EndpointsDocument
{
    public string Ec2 { get; set; } = "";
    public string Imds { get; set; } = "";
    public string Kubernetes { get; set; } = "";
    public string Admin { get; set; } = "";

    /// <summary>Instance id -> that instance's own IMDS (one listener per running instance).</summary>
    public SortedDictionary<string, string> ImdsByInstance { get; set; } = new(StringComparer.Ordinal);
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(EndpointsDocument))]
internal sealed partial class StateFilesJsonContext : JsonSerializerContext;
