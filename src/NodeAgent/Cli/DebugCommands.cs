using System.CommandLine;
using BranchEni.Contracts;
using BranchEni.Netlink;

namespace BranchEni.Agent.Cli;

/// <summary>
/// The node-level debug commands, siblings of `run` (issue 7): status, pods, verify [POD], cleanup [--dry-run]. They
/// read the kernel and the node-local records only, so they work with the agent and the API server down; the agent's
/// health endpoint and (with KUBECONFIG) the API server are optional extras with a short deadline.
/// </summary>
internal static class DebugCommands
{
    /// <summary>The four commands, for a node whose VLAN links are <paramref name="vlanLink"/>.</summary>
    public static Command[] Create(Func<string, string?> env, IBranchVlanLink vlanLink)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(vlanLink);
        var status = new Command("status", "Trunk, capacity, VLANs used and free, CNI install, mode and agent health.");
        var pods = new Command("pods", "One row per branch pod: record, kernel and (with KUBECONFIG) annotation side by side.");
        var verify = new Command("verify", "Compare the kernel with the records; one line per difference, exit 1 when any.");
        var pod = new Argument<string?>("pod") { Description = "namespace/name, pod UID or a unique name; omitted: every pod and the node.", Arity = ArgumentArity.ZeroOrOne };
        verify.Arguments.Add(pod);
        var cleanup = new Command("cleanup", "Remove VLAN links, rules and table routes that have no live owner, printing each.");
        var dryRun = new Option<bool>("--dry-run") { Description = "Print what would be removed; change nothing." };
        cleanup.Options.Add(dryRun);

        var shared = new SharedOptions(env, vlanLink);
        foreach (var command in new[] { status, pods, verify, cleanup })
        {
            shared.AddTo(command);
        }

        status.SetAction((parse, _) => Guard(parse, shared, (s, o, _) => StatusCommand.RunAsync(s, o)));
        pods.SetAction((parse, _) => Guard(parse, shared, (s, o, _) => PodsCommand.RunAsync(s, o)));
        verify.SetAction((parse, _) => Guard(parse, shared, (s, o, e) => Task.FromResult(VerifyCommand.Run(s, parse.GetValue(pod), o, e))));
        cleanup.SetAction((parse, _) => Guard(parse, shared, (s, o, e) => Task.FromResult(CleanupCommand.Run(s, parse.GetValue(dryRun), o, e))));
        return [status, pods, verify, cleanup];
    }

    /// <summary>Runs a command; a node that cannot be read at all is exit 3 with the reason, not a stack trace.</summary>
    private static async Task<int> Guard(ParseResult parse, SharedOptions shared, Func<CliSettings, TextWriter, TextWriter, Task<int>> body)
    {
        var output = parse.InvocationConfiguration.Output;
        var error = parse.InvocationConfiguration.Error;
        var settings = shared.Read(parse);
        try
        {
            return await body(settings, output, error).ConfigureAwait(false);
        }
        catch (Exception e) when (e is NetlinkException or IOException or UnauthorizedAccessException)
        {
            await error.WriteLineAsync($"branch-eni-agent {parse.CommandResult.Command.Name}: cannot inspect the node: {e.Message}").ConfigureAwait(false);
            return ExitCodes.CannotInspect;
        }
    }

    /// <summary>The options every debug command takes; defaults follow the agent's flags and environment.</summary>
    private sealed class SharedOptions(Func<string, string?> env, IBranchVlanLink vlanLink)
    {
        private readonly Option<string> _output = new("--output", "-o") { Description = "table or json (docs/cli.md).", DefaultValueFactory = _ => "table" };
        private readonly Option<string> _stateDir = Make("--state-dir", "BRANCH_ENI_STATE_DIR", Contracts.NodeRecords.DefaultDirectory, "Node-local records directory.", env);
        private readonly Option<string> _confDir = Make("--cni-conf-dir", "BRANCH_ENI_CNI_CONF_DIR", "/etc/cni/net.d", "Host CNI config directory.", env);
        private readonly Option<string> _binDir = Make("--cni-bin-dir", "BRANCH_ENI_CNI_BIN_DIR", "/opt/cni/bin", "Host CNI binary directory.", env);
        private readonly Option<string?> _netns = MakeOptional("--netns", "BRANCH_ENI_NETNS", "Network namespace holding the node's interfaces; unset: this process's.", env);
        private readonly Option<string?> _kubeconfig = MakeOptional("--kubeconfig", "KUBECONFIG", "Read annotations and capacity from this API server (short timeout); unset: no API reads.", env);
        private readonly Option<string?> _nodeName = MakeOptional("--node-name", "NODE_NAME", "This node's Kubernetes name (for its capacity).", env);
        private readonly Option<string> _health = Make("--health-address", "BRANCH_ENI_HEALTH_ADDRESS", "127.0.0.1:61680", "The agent's loopback health address.", env);

        public void AddTo(Command command)
        {
            _output.AcceptOnlyFromAmong("table", "json");
            foreach (Option option in new Option[] { _output, _stateDir, _confDir, _binDir, _netns, _kubeconfig, _nodeName, _health })
            {
                command.Options.Add(option);
            }
        }

        public CliSettings Read(ParseResult parse) => new()
        {
            Output = parse.GetValue(_output) == "json" ? OutputFormat.Json : OutputFormat.Table,
            StateDir = parse.GetValue(_stateDir)!,
            CniConfDir = parse.GetValue(_confDir)!,
            CniBinDir = parse.GetValue(_binDir)!,
            NodeNetns = parse.GetValue(_netns),
            Kubeconfig = parse.GetValue(_kubeconfig),
            NodeName = parse.GetValue(_nodeName),
            HealthAddress = parse.GetValue(_health)!,
            VlanLink = vlanLink,
        };

        private static Option<string> Make(string flag, string envName, string fallback, string help, Func<string, string?> env) =>
            new(flag) { Description = $"{help} Env: {envName}.", DefaultValueFactory = _ => NonEmpty(env(envName)) ?? fallback };

        private static Option<string?> MakeOptional(string flag, string envName, string help, Func<string, string?> env) =>
            new(flag) { Description = $"{help} Env: {envName}.", DefaultValueFactory = _ => NonEmpty(env(envName)) };

        private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
    }
}
