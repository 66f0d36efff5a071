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

    [Fact]
    public async Task TheReplyIsAppendedToARedirectedFileNotWrittenOverIt()
    {
        // Runtimes read stdout through a pipe, but a person or a wrapper may redirect it to a file: the reply goes at
        // the file's end with write(2), as the shell's own output before and after it does.
        var file = Path.Combine(Path.GetTempPath(), $"branch-eni-stdout-{Guid.NewGuid():N}");
        try
        {
            // One descriptor shared by the three writers, not opened O_APPEND: a pwrite(2) at the plugin's own offset
            // would leave the shared offset behind, and "after" would overwrite the reply.
            var script = $"{{ echo before; CNI_COMMAND=VERSION {RepoPaths.RequireCniBinary()} < /dev/null; echo after; }} > {file}";
            using var shell = Process.Start(new ProcessStartInfo("/bin/bash", ["-c", script]) { UseShellExecute = false })!;
            await shell.WaitForExitAsync();

            Assert.Equal(0, shell.ExitCode);
            var lines = await File.ReadAllLinesAsync(file);
            Assert.Equal(3, lines.Length);
            Assert.Equal("before", lines[0]);
            Assert.Equal("1.1.0", JsonDocument.Parse(lines[1]).RootElement.GetProperty("cniVersion").GetString());
            Assert.Equal("after", lines[2]);
        }
        finally
        {
            File.Delete(file);
        }
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
