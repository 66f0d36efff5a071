using System.Diagnostics;
using System.Text.Json;
using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.Runtime;
using BranchEni.Testing;

namespace BranchEni.Sandbox.Tests.Hosting;

/// <summary>The process contract: --state-dir/--seed, endpoints.json and kubeconfig when ready, clean SIGTERM.</summary>
public sealed class ExecutableTests
{
    private static ProcessStartInfo StartInfo(params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "branch-eni-sandbox.dll");
        Assert.True(File.Exists(dll), $"{dll} missing");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(dll);
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        return info;
    }

    private static async Task<JsonElement> WaitForEndpointsAsync(string dir, Process process)
    {
        var file = Path.Combine(dir, "endpoints.json");
        var clock = Stopwatch.StartNew();
        while (!File.Exists(file))
        {
            if (process.HasExited)
            {
                Assert.Fail($"sandbox exited early: {await process.StandardError.ReadToEndAsync()}");
            }

            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "no endpoints.json after 30 s");
            await Task.Delay(50);
        }

        return JsonDocument.Parse(await File.ReadAllTextAsync(file)).RootElement.Clone();
    }

    [Fact]
    public async Task The_executable_serves_the_seed_writes_its_endpoints_and_stops_on_sigterm()
    {
        var dir = Directory.CreateTempSubdirectory("sandbox-exe-").FullName;
        try
        {
            var seed = Path.Combine(RepoPaths.Root, "src", "Sandbox", "seed.example.json");
            using var process = Process.Start(StartInfo("--state-dir", dir, "--seed", seed))!;
            var endpoints = await WaitForEndpointsAsync(dir, process);
            foreach (var name in new[] { "ec2", "imds", "kubernetes", "admin" })
            {
                Assert.Matches("^http://127\\.0\\.0\\.1:[0-9]+$", endpoints.GetProperty(name).GetString());
            }

            var kubeconfig = await File.ReadAllTextAsync(Path.Combine(dir, "kubeconfig"));
            Assert.Contains("server: " + endpoints.GetProperty("kubernetes").GetString(), kubeconfig, StringComparison.Ordinal);

            using var ec2 = new AmazonEC2Client(new BasicAWSCredentials("AKIASANDBOXEXAMPLE", "secret"), new AmazonEC2Config
            {
                ServiceURL = endpoints.GetProperty("ec2").GetString(), AuthenticationRegion = "us-west-2",
            });
            var reservations = (await ec2.DescribeInstancesAsync(new DescribeInstancesRequest())).Reservations;
            Assert.Equal(["m5.large", "t3.medium"], reservations.Select(r => r.Instances[0].InstanceType.Value).Order(StringComparer.Ordinal));

            using var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            await kill.WaitForExitAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            await process.WaitForExitAsync(timeout.Token);
            Assert.Equal(0, process.ExitCode);
            Assert.False(File.Exists(Path.Combine(dir, "endpoints.json")), "endpoints.json outlived the sandbox");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task A_bad_seed_is_a_clear_error_and_exit_code_2()
    {
        var dir = Directory.CreateTempSubdirectory("sandbox-exe-").FullName;
        try
        {
            var seed = Path.Combine(dir, "seed.json");
            await File.WriteAllTextAsync(seed, """{"subnets": [{"id": "subnet-1", "cidrBlock": "10.0.0.0/40"}]}""");
            using var process = Process.Start(StartInfo("--state-dir", dir, "--seed", seed))!;
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            await process.WaitForExitAsync(timeout.Token);
            Assert.Equal(2, process.ExitCode);
            Assert.Contains("10.0.0.0/40", await process.StandardError.ReadToEndAsync(), StringComparison.Ordinal);
            Assert.False(File.Exists(Path.Combine(dir, "endpoints.json")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Nodes_n_starts_a_cluster_with_one_imds_per_instance_in_endpoints_json()
    {
        var dir = Directory.CreateTempSubdirectory("sandbox-exe-").FullName;
        try
        {
            using var process = Process.Start(StartInfo("--state-dir", dir, "--nodes", "3", "--instance-type", "c5.4xlarge"))!;
            var endpoints = await WaitForEndpointsAsync(dir, process);
            var imds = endpoints.GetProperty("imdsByInstance").EnumerateObject().ToList();
            Assert.Equal(3, imds.Count);
            Assert.All(imds, p => Assert.Matches("^http://127\\.0\\.0\\.1:[0-9]+$", p.Value.GetString()));
            Assert.Equal(3, imds.Select(p => p.Value.GetString()).Distinct(StringComparer.Ordinal).Count());

            using var ec2 = new AmazonEC2Client(new BasicAWSCredentials("AKIASANDBOXEXAMPLE", "secret"), new AmazonEC2Config
            {
                ServiceURL = endpoints.GetProperty("ec2").GetString(), AuthenticationRegion = "us-west-2",
            });
            var instances = (await ec2.DescribeInstancesAsync(new DescribeInstancesRequest())).Reservations.SelectMany(r => r.Instances).ToList();
            Assert.Equal(imds.Select(p => p.Name).Order(StringComparer.Ordinal), instances.Select(i => i.InstanceId).Order(StringComparer.Ordinal));
            Assert.All(instances, i => Assert.Equal("c5.4xlarge", i.InstanceType.Value));

            using var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            await kill.WaitForExitAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            await process.WaitForExitAsync(timeout.Token);
            Assert.Equal(0, process.ExitCode);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("--nodes 0", "--nodes '0'")]
    [InlineData("--nodes many", "--nodes 'many'")]
    [InlineData("--nodes -3", "--nodes '-3'")]
    [InlineData("--nodes 1001", "--nodes '1001'")]
    [InlineData("--instance-type m5.large", "--instance-type goes with --nodes")]
    [InlineData("--nodes 2 --seed seed.json", "exclude each other")]
    [InlineData("--nodes 2 --instance-type m9.huge", "m9.huge")]
    public async Task Bad_cluster_arguments_are_a_clear_error_and_exit_code_2(string arguments, string message)
    {
        var dir = Directory.CreateTempSubdirectory("sandbox-exe-").FullName;
        try
        {
            using var process = Process.Start(StartInfo(["--state-dir", dir, .. arguments.Split(' ')]))!;
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            await process.WaitForExitAsync(timeout.Token);
            Assert.Equal(2, process.ExitCode);
            Assert.Contains(message, await process.StandardError.ReadToEndAsync(), StringComparison.Ordinal);
            Assert.False(File.Exists(Path.Combine(dir, "endpoints.json")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
