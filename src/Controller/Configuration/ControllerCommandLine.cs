using System.CommandLine;
using BranchEni.Policy;

namespace BranchEni.Controller.Configuration;

/// <summary>The executable's commands: `run` is the controller process.</summary>
internal static class ControllerCommandLine
{
    public static RootCommand Build(Func<ControllerOptions, CancellationToken, Task<int>> run, Func<string, string?> env)
    {
        var kubeconfig = new Option<string>("--kubeconfig") { Description = "Kubeconfig file. Env: KUBECONFIG; unset: in-cluster configuration." };
        var address = new Option<string>("--webhook-address") { Description = "host:port the HTTPS webhooks listen on (default 0.0.0.0:9443)." };
        var service = new Option<string>("--webhook-service") { Description = "namespace/name of this controller's Service (in a cluster)." };
        var url = new Option<string>("--webhook-url") { Description = "https://host:port the API server calls (outside a cluster); the configurations get clientConfig.url." };
        var certFile = new Option<string>("--tls-cert-file") { Description = "Serving certificate (PEM), e.g. from cert-manager; unset: the controller's own CA." };
        var keyFile = new Option<string>("--tls-key-file") { Description = "Its private key (PEM)." };
        var health = new Option<string>("--health-address") { Description = "host:port for plain-HTTP /healthz, /readyz, /metrics (default 0.0.0.0:8081)." };
        var agents = new Option<string[]>("--agent-identity")
        {
            Description = $"A user allowed to write the pod-eni annotation (repeatable; default {ControllerOptions.DefaultAgentIdentity}).",
            AllowMultipleArgumentsPerToken = false,
        };
        var secret = new Option<string>("--tls-secret") { Description = "Secret holding the controller's CA and certificate (default branch-eni-controller-tls)." };
        var leaderElect = new Option<bool>("--leader-elect") { Description = "Take part in the Lease election (default true).", DefaultValueFactory = _ => true };
        var logLevel = new Option<string>("--log-level") { Description = "debug, info, warn or error (default info)." };
        var sgAnnotation = new Option<string>("--enable-sg-annotation")
        {
            Description = "Honour the aws.tigera.io/security-groups pod annotation (default false; set as on the agents). Env: ENABLE_SG_ANNOTATION.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var sgNamespaces = new Option<string>("--sg-annotation-namespaces") { Description = "Comma-separated namespaces where it counts; empty: all. Env: SG_ANNOTATION_NAMESPACES." };
        var command = new Command("run", "Serve the admission webhooks and take part in leader election.")
        {
            kubeconfig, address, service, url, certFile, keyFile, health, agents, secret, leaderElect, logLevel, sgAnnotation, sgNamespaces,
        };
        command.SetAction((parse, token) =>
        {
            var defaults = new ControllerOptions();
            var enableText = parse.GetResult(sgAnnotation) is { Implicit: false } ? parse.GetValue(sgAnnotation) ?? "true" : env(SecurityGroupAnnotationSettings.EnableSetting);
            if (!TryParseBool(enableText, out var enable))
            {
                Console.Error.WriteLine($"branch-eni-controller: --enable-sg-annotation ({SecurityGroupAnnotationSettings.EnableSetting}) is '{enableText}'; use true or false");
                return Task.FromResult(2);
            }

            var options = new ControllerOptions
            {
                Kubeconfig = parse.GetValue(kubeconfig) ?? NonEmpty(env("KUBECONFIG")),
                WebhookAddress = parse.GetValue(address) ?? defaults.WebhookAddress,
                WebhookService = parse.GetValue(service),
                WebhookUrl = parse.GetValue(url),
                TlsCertFile = parse.GetValue(certFile),
                TlsKeyFile = parse.GetValue(keyFile),
                HealthAddress = parse.GetValue(health) ?? defaults.HealthAddress,
                AgentIdentities = parse.GetValue(agents) is { Length: > 0 } given ? given : defaults.AgentIdentities,
                TlsSecretName = parse.GetValue(secret) ?? defaults.TlsSecretName,
                LeaderElect = parse.GetValue(leaderElect),
                LogLevel = parse.GetValue(logLevel) ?? defaults.LogLevel,
                PodNamespace = NonEmpty(env("POD_NAMESPACE")),
                PodName = NonEmpty(env("POD_NAME")),
                SgAnnotation = SecurityGroupAnnotationSettings.Of(enable,
                    parse.GetValue(sgNamespaces) ?? env(SecurityGroupAnnotationSettings.NamespacesSetting)),
            };
            var problems = options.Validate();
            foreach (var problem in problems)
            {
                Console.Error.WriteLine($"branch-eni-controller: {problem}");
            }

            return problems.Count > 0 ? Task.FromResult(2) : run(options, token);
        });
        var root = new RootCommand("branch-eni-controller: admission webhooks and cluster-wide jobs for branch-eni");
        root.Subcommands.Add(command);
        return root;
    }

    private static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    /// <summary>The agent's spelling of booleans (true/1/yes, false/0/no); unset is false.</summary>
    private static bool TryParseBool(string? text, out bool value)
    {
        value = false;
        switch (text?.Trim().ToLowerInvariant())
        {
            case null or "" or "false" or "0" or "no":
                return true;
            case "true" or "1" or "yes":
                value = true;
                return true;
            default:
                return false;
        }
    }
}
