using System.CommandLine;
using System.Globalization;

namespace BranchEni.Controller.Configuration;

/// <summary>The cleanup job's flags and their environment variables (README "Cleanup after dead nodes").</summary>
internal sealed record CleanupOptions(Option<string> ClusterName, Option<string> Enable, Option<int?> Interval, Option<int?> Cooldown)
{
    public static CleanupOptions Create() => new(
        new Option<string>("--cluster-name") { Description = "Cluster name, as on the agents: only ENIs tagged kubernetes.io/cluster/<name>=owned are cleaned up. Env: CLUSTER_NAME." },
        new Option<string>("--eni-cleanup")
        {
            Description = "The leader deletes available ENIs of this cluster whose instance or pod is gone (default: true when a cluster name is given). Env: ENI_CLEANUP.",
            Arity = ArgumentArity.ZeroOrOne,
        },
        new Option<int?>("--eni-cleanup-interval-seconds") { Description = "Seconds between cleanup passes (default 60). Env: ENI_CLEANUP_INTERVAL_SECONDS." },
        new Option<int?>("--eni-cleanup-cooldown-seconds")
        {
            Description = "An ENI must be garbage on two passes at least this far apart before it is deleted (default 300). Env: ENI_CLEANUP_COOLDOWN_SECONDS.",
        });

    /// <summary>The defaults with the cleanup settings filled in, or null after printing what is wrong.</summary>
    public ControllerOptions? Read(ParseResult parse, Func<string, string?> env, ControllerOptions defaults)
    {
        var enableText = parse.GetResult(Enable) is { Implicit: false } ? parse.GetValue(Enable) ?? "true" : env("ENI_CLEANUP");
        if (!ControllerCommandLine.TryParseBool(enableText, out var enable))
        {
            Console.Error.WriteLine($"branch-eni-controller: --eni-cleanup (ENI_CLEANUP) is '{enableText}'; use true or false");
            return null;
        }

        if (!TrySeconds(parse.GetValue(Interval), env, "ENI_CLEANUP_INTERVAL_SECONDS", out var interval)
            || !TrySeconds(parse.GetValue(Cooldown), env, "ENI_CLEANUP_COOLDOWN_SECONDS", out var cooldown))
        {
            return null;
        }

        return defaults with
        {
            ClusterName = parse.GetValue(ClusterName) ?? ControllerCommandLine.NonEmpty(env("CLUSTER_NAME")),
            EniCleanup = string.IsNullOrWhiteSpace(enableText) ? null : enable,
            EniCleanupInterval = interval ?? defaults.EniCleanupInterval,
            EniCleanupCooldown = cooldown ?? defaults.EniCleanupCooldown,
        };
    }

    private static bool TrySeconds(int? flag, Func<string, string?> env, string name, out TimeSpan? value)
    {
        value = null;
        if (flag is { } given)
        {
            value = TimeSpan.FromSeconds(given);
            return true;
        }

        var text = ControllerCommandLine.NonEmpty(env(name));
        if (text is null)
        {
            return true;
        }

        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            Console.Error.WriteLine($"branch-eni-controller: {name} '{text}' is not a whole number of seconds");
            return false;
        }

        value = TimeSpan.FromSeconds(seconds);
        return true;
    }
}
