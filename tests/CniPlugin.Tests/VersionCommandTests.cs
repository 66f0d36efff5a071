using System.Diagnostics;
using System.Text;
using System.Text.Json;
using BranchEni.Testing;

namespace BranchEni.Cni.Tests;

/// <summary>VERSION, in-process and through the published native binary exactly as a runtime execs it.</summary>
public sealed class VersionCommandTests
{
    private static readonly string[] Expected = ["0.3.1", "0.4.0", "1.0.0", "1.1.0"];

    [Theory]
    [InlineData("0.3.1")]
    [InlineData("0.4.0")]
    [InlineData("1.0.0")]
    [InlineData("1.1.0")]
    public void VersionAnswersInTheRequestedVersionWithTheSupportedList(string requested)
    {
        var (code, reply) = RunInProcess("VERSION", $$"""{"cniVersion":"{{requested}}"}""");

        Assert.Equal(0, code);
        Assert.Equal(requested, reply.GetProperty("cniVersion").GetString());
        Assert.Equal(Expected, reply.GetProperty("supportedVersions").EnumerateArray().Select(v => v.GetString()));
    }

    [Fact]
    public void VersionWithAnUnknownOrMissingVersionAnswersInTheNewest()
    {
        Assert.Equal("1.1.0", RunInProcess("VERSION", """{"cniVersion":"9.9.9"}""").Reply.GetProperty("cniVersion").GetString());
        Assert.Equal("1.1.0", RunInProcess("VERSION", "").Reply.GetProperty("cniVersion").GetString());
    }

    [Fact]
    public void MissingOrUnknownCommandIsSpecErrorFour()
    {
        foreach (var command in new[] { null, "", "FROB" })
        {
            var (code, reply) = RunInProcess(command, """{"cniVersion":"1.0.0"}""");
            Assert.Equal(1, code);
            Assert.Equal(4, reply.GetProperty("code").GetInt32());
            Assert.Equal("1.0.0", reply.GetProperty("cniVersion").GetString());
            Assert.Contains("CNI_COMMAND", reply.GetProperty("msg").GetString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void ConfigThatIsNotJsonIsSpecErrorSix()
    {
        var (code, reply) = RunInProcess("VERSION", "{not json");

        Assert.Equal(1, code);
        Assert.Equal(6, reply.GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task PublishedNativeBinaryAnswersVersion()
    {
        var binary = RepoPaths.RequireCniBinary();
        var psi = new ProcessStartInfo(binary)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.Environment["CNI_COMMAND"] = "VERSION";
        using var process = Process.Start(psi)!;
        await process.StandardInput.WriteAsync("""{"cniVersion":"1.0.0"}""");
        process.StandardInput.Close();
        var stdout = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.Equal(0, process.ExitCode);
        using var doc = JsonDocument.Parse(stdout);
        Assert.Equal("1.0.0", doc.RootElement.GetProperty("cniVersion").GetString());
        Assert.Equal(Expected, doc.RootElement.GetProperty("supportedVersions").EnumerateArray().Select(v => v.GetString()));
        // Native AOT: a single ELF file, no managed assembly beside it.
        Assert.False(File.Exists(Path.ChangeExtension(binary, ".dll")));
        var magic = new byte[4];
        await using (var file = File.OpenRead(binary))
        {
            await file.ReadExactlyAsync(magic);
        }

        Assert.Equal("\u007fELF"u8.ToArray(), magic);
    }

    private static (int Code, JsonElement Reply) RunInProcess(string? command, string stdin)
    {
        using var input = new MemoryStream(Encoding.UTF8.GetBytes(stdin));
        using var output = new MemoryStream();
        var code = Program.Run(command, input, output);
        using var doc = JsonDocument.Parse(output.ToArray());
        return (code, doc.RootElement.Clone());
    }
}
