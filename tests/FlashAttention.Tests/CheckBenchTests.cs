using System.CommandLine;
using System.Text.Json;
using FlashAttention.Cli;
using FlashAttention.Cli.Commands;
using Xunit;

namespace FlashAttention.Tests;

/// <summary>The <c>check</c> and <c>bench</c> subcommands, the standard-attention baseline and the FMA peak.</summary>
public class CheckBenchTests
{
    private static (int ExitCode, string Output) Invoke(Func<Spectre.Console.IAnsiConsole, Command> create, params string[] args)
    {
        var writer = new StringWriter();
        var console = CliConsole.Plain(writer);
        int code = new RootCommand { create(console) }.Parse(args).Invoke();
        return (code, writer.ToString());
    }

    [Fact]
    public void CheckQuickWithFixedSeedPasses()
    {
        var (code, output) = Invoke(CheckCommand.Create, "check", "--quick", "--seed", "20240611");
        Assert.True(code == 0, output);
        Assert.Contains("seed 20240611", output);
        Assert.Contains("PASS", output);
        Assert.DoesNotContain("FAIL", output);
        foreach (string dtype in new[] { "fp32", "fp16", "bf16" })
            Assert.Contains(dtype, output);
    }

    [Fact]
    public void CheckOnCudaSaysUnavailableAndExits2()
    {
        // Through the tool's own entry point, so the command also honours the invocation's output writer.
        var output = new StringWriter();
        int code = Program.Run(["check", "--device", "cuda"], output, new StringWriter());
        Assert.Equal(2, code);
        Assert.Contains("CUDA backend is not available", output.ToString());
    }

    [Fact]
    public void BenchSmallestConfigWritesValidJson()
    {
        string path = Path.Combine(Path.GetTempPath(), $"flashattn-bench-{Guid.NewGuid():N}.json");
        try
        {
            var (code, output) = Invoke(BenchCommand.Create, "bench", "--config", "1,2,64,16,causal", "--repeats", "1", "--threads", "1", "--json", path);
            Assert.True(code == 0, output);
            Assert.Contains("GFLOP/s", output);
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            var root = doc.RootElement;
            Assert.Contains("--config", root.GetProperty("command").GetString());
            Assert.True(DateTime.TryParse(root.GetProperty("date").GetString(), out _));
            Assert.True(root.GetProperty("machine").GetProperty("fmaPeakGflops").GetDouble() > 0);
            var rows = root.GetProperty("rows");
            Assert.Equal(1, rows.GetArrayLength());
            var row = rows[0];
            Assert.Equal(64, row.GetProperty("seqlenQ").GetInt32());
            Assert.Equal(16, row.GetProperty("headDim").GetInt32());
            Assert.True(row.GetProperty("causal").GetBoolean());
            Assert.Equal("fp32", row.GetProperty("dtype").GetString());
            Assert.True(row.GetProperty("forwardMs").GetDouble() > 0);
            Assert.True(row.GetProperty("backwardMs").GetDouble() > 0);
            Assert.True(row.GetProperty("standardRun").GetBoolean());
            // 4·B·H·N²·D / 2 FLOPs in forwardMs milliseconds
            double expected = 4.0 * 2 * 64 * 64 * 16 / 2 / (row.GetProperty("forwardMs").GetDouble() * 1e6);
            Assert.Equal(expected, row.GetProperty("forwardGflops").GetDouble(), expected * 1e-2);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void BenchConfigParsesAndRejects()
    {
        Assert.Equal(new BenchConfig(1, 16, 2048, 64, true, false), BenchConfig.Parse("1,16,2048,64,causal"));
        Assert.Equal(new BenchConfig(2, 4, 100, 8, false, true), BenchConfig.Parse(" 2, 4,100,8,fwd"));
        Assert.Throws<FormatException>(() => BenchConfig.Parse("1,16,2048"));
        Assert.Throws<FormatException>(() => BenchConfig.Parse("1,16,0,64"));
        Assert.Throws<FormatException>(() => BenchConfig.Parse("1,16,64,64,sideways"));
        Assert.Throws<FormatException>(() => BenchConfig.Parse("1,1,64,512"));
        Assert.Equal(4.0 * 16 * 2048 * 2048 * 64 / 2, BenchConfig.Parse("1,16,2048,64,causal").ForwardFlops);
    }

    [Theory]
    [InlineData(1, 37, 53, 4, 2, 40, false)]
    [InlineData(2, 61, 29, 2, 1, 64, true)]
    [InlineData(1, 1, 1, 1, 1, 1, false)]
    [InlineData(1, 130, 130, 2, 2, 128, true)]
    public void StandardAttentionMatchesReference(int batch, int nq, int nk, int heads, int kvHeads, int d, bool causal)
    {
        var shape = new AttentionShape(batch, nq, nk, heads, kvHeads, d);
        var q = TestData.Random(shape.QueryLength, 31);
        var k = TestData.Random(shape.KeyValueLength, 32);
        var v = TestData.Random(shape.KeyValueLength, 33);
        var o = new float[shape.QueryLength];
        StandardAttention.Forward<float>(shape, q, k, v, o, causal);
        var reference = ReferenceAttention.Forward<float>(shape, q, k, v, new AttentionOptions { Causal = causal });
        double err = TestData.RelativeError(o, reference.Output);
        Assert.True(err <= 1e-5, $"standard attention error {err}");

        // Half storage: same inputs rounded, compared with the reference on the rounded inputs.
        var qh = TestData.Convert<Half>(q);
        var kh = TestData.Convert<Half>(k);
        var vh = TestData.Convert<Half>(v);
        var oh = new Half[shape.QueryLength];
        StandardAttention.Forward<Half>(shape, qh, kh, vh, oh, causal, threads: 1);
        var referenceHalf = ReferenceAttention.Forward<Half>(shape, qh, kh, vh, new AttentionOptions { Causal = causal });
        double errHalf = TestData.RelativeError(TestData.ToFloat(oh), referenceHalf.Output);
        Assert.True(errHalf <= Thresholds.Float16, $"standard attention fp16 error {errHalf}");
    }

    [Fact]
    public void ErrorMeasureMatchesInfinitiesAndFlagsNaN()
    {
        Assert.Equal(0, ErrorMeasure.Relative([1f, float.PositiveInfinity], [1.0, double.PositiveInfinity]));
        Assert.Equal(double.PositiveInfinity, ErrorMeasure.Relative([1f, 5f], [1.0, double.PositiveInfinity]));
        Assert.True(double.IsNaN(ErrorMeasure.Relative([float.NaN], [1.0])));
        Assert.Equal(0.1, ErrorMeasure.Relative([1.1f, 0f], [1.0, 0.0]), 1e-6);
        double e = ErrorMeasure.RelativeMagnitude([0.5f, -0.5f, -0f], [0.5, -0.5, 0.0], out long wrong, out long checkedSigns);
        Assert.Equal(0, e);
        Assert.Equal(0, wrong);
        Assert.Equal(2, checkedSigns);
        ErrorMeasure.RelativeMagnitude([0.5f, 0.5f], [0.5, -0.5], out wrong, out _);
        Assert.Equal(1, wrong);
    }

    [Fact]
    public void MachinePeakIsPositive()
    {
        double gflops = MachinePeak.MeasureGflops(1, milliseconds: 60);
        Assert.True(gflops > 0.5, $"measured {gflops} GFLOP/s");
    }
}
