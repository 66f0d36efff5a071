using System.Runtime.InteropServices;
using System.Text.Json;
using BranchEni.Sandbox.Hosting;
using BranchEni.Sandbox.Seed;

namespace BranchEni.Sandbox;

/// <summary>
/// <c>branch-eni-sandbox --state-dir DIR [--seed FILE]</c>: serves the emulators on loopback, writes
/// DIR/endpoints.json and DIR/kubeconfig once ready, and stops cleanly on SIGTERM or SIGINT.
/// </summary>
internal static class Program
{
    private const string Usage =
        "usage: branch-eni-sandbox --state-dir DIR [--seed FILE | --nodes N [--instance-type T]] [--fabric-router NETNS_PATH --fabric-node INSTANCE_ID]\n"
        + "  --nodes: a cluster of N instances (node-1..node-N, default type m5.4xlarge) instead of the one-node default seed\n"
        + "  --fabric-*: also play the VPC's network (root only): this namespace is the node, NETNS_PATH the VPC router";

    private static async Task<int> Main(string[] args)
    {
        string? stateDir = null;
        string? seedFile = null;
        string? fabricRouter = null;
        string? fabricNode = null;
        string? nodes = null;
        string? instanceType = null;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--state-dir" when i + 1 < args.Length:
                    stateDir = args[++i];
                    break;
                case "--seed" when i + 1 < args.Length:
                    seedFile = args[++i];
                    break;
                case "--nodes" when i + 1 < args.Length:
                    nodes = args[++i];
                    break;
                case "--instance-type" when i + 1 < args.Length:
                    instanceType = args[++i];
                    break;
                case "--fabric-router" when i + 1 < args.Length:
                    fabricRouter = args[++i];
                    break;
                case "--fabric-node" when i + 1 < args.Length:
                    fabricNode = args[++i];
                    break;
                case "-h" or "--help":
                    Console.WriteLine(Usage);
                    return 0;
                default:
                    Console.Error.WriteLine($"branch-eni-sandbox: unexpected argument '{args[i]}'\n{Usage}");
                    return 2;
            }
        }

        if (stateDir is null || (fabricRouter is null) != (fabricNode is null))
        {
            Console.Error.WriteLine($"branch-eni-sandbox: --state-dir is required, and --fabric-router goes with --fabric-node\n{Usage}");
            return 2;
        }

        if (ChooseSeed(seedFile, nodes, instanceType) is not { } seed)
        {
            return 2;
        }

        using var stop = new CancellationTokenSource();
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        SandboxHost host;
        try
        {
            host = await SandboxHost.StartAsync(new SandboxOptions { Seed = seed, StateDirectory = Path.GetFullPath(stateDir) }).ConfigureAwait(false);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"branch-eni-sandbox: {e.Message}");
            return 2;
        }

        await using (host.ConfigureAwait(false))
        {
            var ep = host.Endpoints;
            Console.WriteLine($"ec2 {ep.Ec2}\nimds {ep.Imds}\nkubernetes {ep.Kubernetes}\nadmin {ep.Admin}\nstate {Path.GetFullPath(stateDir)}");
            var fabric = fabricRouter is null
                ? Task.CompletedTask
                : new Fabric.VpcFabric(host.Admin, fabricNode!, fabricRouter, Console.Out,
                    socket => host.ServeImdsAsync(socket, fabricNode!, stop.Token)).RunAsync(stop.Token);
            try
            {
                await Task.Delay(Timeout.Infinite, stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                Console.WriteLine("branch-eni-sandbox: stopping");
                await fabric.ConfigureAwait(false);
            }
        }

        return 0;
    }

    /// <summary>The --seed file, a --nodes cluster or the default seed; null after saying on stderr what is wrong.</summary>
    private static SandboxSeed? ChooseSeed(string? seedFile, string? nodes, string? instanceType)
    {
        if (ClusterError(nodes, instanceType, seedFile) is { } error)
        {
            Console.Error.WriteLine($"branch-eni-sandbox: {error}\n{Usage}");
            return null;
        }

        try
        {
            return nodes is not null
                ? ClusterSeed.Create(int.Parse(nodes, System.Globalization.CultureInfo.InvariantCulture), instanceType ?? "m5.4xlarge")
                : seedFile is null ? DefaultSeed.Create() : LoadSeed(seedFile);
        }
        catch (Exception e) when (e is IOException or JsonException or ArgumentException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"branch-eni-sandbox: seed {seedFile}: {e.Message}");
            return null;
        }
    }

    /// <summary>Why --nodes/--instance-type cannot be used as given, or null when they can.</summary>
    private static string? ClusterError(string? nodes, string? instanceType, string? seedFile)
    {
        if (nodes is null)
        {
            return instanceType is null ? null : "--instance-type goes with --nodes";
        }

        if (seedFile is not null)
        {
            return "--nodes and --seed exclude each other (a seed file lists its own instances)";
        }

        if (!int.TryParse(nodes, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n)
            || n is < 1 or > ClusterSeed.MaxNodes)
        {
            return $"--nodes '{nodes}' must be a whole number from 1 to {ClusterSeed.MaxNodes}";
        }

        return instanceType is { } t && string.IsNullOrWhiteSpace(t) ? "--instance-type must name an instance type" : null;
    }

    private static SandboxSeed LoadSeed(string path) =>
        JsonSerializer.Deserialize(File.ReadAllText(path), SeedJsonContext.Default.SandboxSeed)
        ?? throw new JsonException("the seed file is empty (null)");
}
