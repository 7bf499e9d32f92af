using FlashAttention.Cli;
using FlashAttention.Cuda;
using Xunit;

namespace FlashAttention.Tests;

/// <summary>
/// <c>flashattn … --device cuda</c> where no GPU is needed: on a machine without CUDA, the one-line "not available" exit 2
/// of every command; the GPU self-check's runner on the host emulation. The GPU results themselves are checked on the
/// device by <c>flashattn check --device cuda</c> (and tools/FlashAttention.Cuda.Probe).
/// </summary>
public sealed class CudaCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("flashattn-cuda-cli-").FullName;

    public CudaCliTests()
    {
        Npy.Write<float>(P("q.npy"), TestData.Random(2 * 5 * 2 * 64, 1), [2, 5, 2, 64]);
        Npy.Write<float>(P("k.npy"), TestData.Random(2 * 6 * 2 * 64, 2), [2, 6, 2, 64]);
        Npy.Write<float>(P("v.npy"), TestData.Random(2 * 6 * 2 * 64, 3), [2, 6, 2, 64]);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    private string[] Forward(params string[] extra) =>
        ["forward", "--q", P("q.npy"), "--k", P("k.npy"), "--v", P("v.npy"), "--out", P("o.npy"), "--device", "cuda", .. extra];

    [Fact]
    public void WithoutCudaEveryCommandSaysSoInOneLineAndExits2()
    {
        if (CudaAttention.IsAvailable)
            return; // a machine with a GPU runs the real path
        foreach (var args in new[]
        {
            ["backward", "--q", P("q.npy"), "--k", P("k.npy"), "--v", P("v.npy"), "--out", P("q.npy"), "--lse", P("q.npy"),
                "--dout", P("q.npy"), "--dq", P("dq.npy"), "--dk", P("dk.npy"), "--dv", P("dv.npy"), "--device", "cuda"],
            new[] { "check", "--device", "cuda", "--quick" },
            ["bench", "--device", "cuda", "--quick"],
        })
        {
            var (code, stdout, stderr) = Run(args);
            Assert.Equal(2, code);
            Assert.Contains("CUDA backend is not available", stdout + stderr);
            Assert.False(File.Exists(P("dq.npy")));
        }
    }

    /// <summary>
    /// The GPU self-check's own runner on the host emulation (the very kernels, emulated): a few cases of the option matrix —
    /// GQA causal with a small head dim, dropout with the returned softmax (sign bits against the reference and the CPU),
    /// packed sequences with an empty one, the user modifiers, and a head dim the GPU refuses.
    /// </summary>
    [Fact]
    public void GpuCheckPassesOnTheEmulation()
    {
        using var cuda = CudaAttention.CreateHostEmulation();
        var names = new[] { "GQA causal 7×13 D=16", "dropout 0.17 + P 64×96 D=32", "varlen empty key sequence D=24", "single token D=1", "window(0,0) diagonal only 50 D=8" };
        var cases = FlashAttention.Cli.Commands.CheckCases.Build(quick: true).Where(c => names.Contains(c.Name)).ToList();
        Assert.Equal(names.Length, cases.Count);
        var console = FlashAttention.Cli.Commands.CliConsole.Plain(new StringWriter());
        var writer = new StringWriter();
        console = FlashAttention.Cli.Commands.CliConsole.Plain(writer);
        int code = FlashAttention.Cli.Commands.CudaCheck.Run(cuda, cases, new FlashAttention.Cli.Commands.CheckSettings(1, 1234, true), console);
        string text = writer.ToString();
        Assert.True(code == 0, text);
        Assert.Contains("refused", text);
        Assert.Contains("PASS", text);
    }

    /// <summary>
    /// <c>bench --device cuda --config</c> on the host emulation: the given shapes replace the grid, a <c>fwd</c> one has no
    /// backward, and the JSON carries each median with its fastest and slowest call.
    /// </summary>
    [Fact]
    public void GpuBenchTimesTheGivenShapesOnTheEmulation()
    {
        using var cuda = CudaAttention.CreateHostEmulation();
        var points = new[] { "1,2,33,64,causal", "2,1,17,32,fwd" }
            .Select(FlashAttention.Cli.Commands.BenchConfig.Parse).ToList();
        var writer = new StringWriter();
        int code = FlashAttention.Cli.Commands.CudaBench.Run(cuda, quick: false, points, "bf16", repeats: 1, P("bench.json"), markdown: true,
            "flashattn bench --device cuda", FlashAttention.Cli.Commands.CliConsole.Plain(writer));
        Assert.True(code == 0, writer.ToString());
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(P("bench.json")));
        var rows = json.RootElement.GetProperty("rows").EnumerateArray().ToList();
        Assert.Equal(2, rows.Count);
        Assert.Equal((1, 2, 33, 64, true), (rows[0].GetProperty("batch").GetInt32(), rows[0].GetProperty("heads").GetInt32(),
            rows[0].GetProperty("seqlen").GetInt32(), rows[0].GetProperty("headDim").GetInt32(), rows[0].GetProperty("causal").GetBoolean()));
        foreach (var prefix in new[] { "forward", "backward" })
        {
            double min = rows[0].GetProperty(prefix + "MinMs").GetDouble(), median = rows[0].GetProperty(prefix + "Ms").GetDouble();
            Assert.True(min > 0 && min <= median && median <= rows[0].GetProperty(prefix + "MaxMs").GetDouble(), prefix);
            Assert.True(rows[0].GetProperty(prefix + "Tflops").GetDouble() >= 0, prefix);
        }
        Assert.Equal(System.Text.Json.JsonValueKind.Null, rows[1].GetProperty("backwardMs").ValueKind);
        Assert.True(rows[1].GetProperty("forwardMs").GetDouble() > 0);
        Assert.Contains("| N=17 D=32 (B=2 H=1) fwd | bf16 |", writer.ToString());
    }

    [Fact]
    public void GpuBenchRefusesABadConfigBeforeLookingForAGpu()
    {
        var (code, stdout, stderr) = Run("bench", "--device", "cuda", "--config", "1,2,64");
        Assert.Equal(2, code);
        Assert.Contains("--config '1,2,64'", stdout + stderr);
        Assert.DoesNotContain("not available", stdout + stderr);
        (code, stdout, stderr) = Run("bench", "--device", "cuda", "--config", "1,2,64,100");
        Assert.Equal(2, code);
        Assert.Contains("--config", stdout + stderr);
        Assert.Contains("multiples of 8", stdout + stderr);
    }

    [Fact]
    public void WithoutCudaForwardSaysSoInOneLineAndExits2()
    {
        if (CudaAttention.IsAvailable)
            return; // a machine with a GPU runs the real path (probe); nothing to refuse here
        var (code, stdout, stderr) = Run(Forward("--dtype", "bf16", "--lse", P("lse.npy")));
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Single(stderr.TrimEnd().Split('\n'));
        Assert.Contains("--device cuda", stderr);
        Assert.Contains("CUDA backend is not available", stderr);
        Assert.False(File.Exists(P("o.npy")));
        Assert.False(File.Exists(P("lse.npy")));
    }

    [Fact]
    public void InfoReportsTheCudaBackend()
    {
        var (code, stdout, _) = Run("info", "--no-peak", "--threads", "1");
        Assert.Equal(0, code);
        Assert.Contains(CudaAttention.IsAvailable ? "--device cuda" : "none usable", stdout);
    }

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = Program.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }
}
