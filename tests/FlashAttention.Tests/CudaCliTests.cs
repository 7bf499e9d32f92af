using FlashAttention.Cli;
using FlashAttention.Cuda;
using Xunit;

namespace FlashAttention.Tests;

/// <summary>
/// <c>flashattn forward --device cuda</c> where no GPU is needed: the refusals (flags the GPU does not support, fp32,
/// the backward pass) and, on a machine without CUDA, the one-line "not available" exit 2. The GPU results themselves are
/// checked on the device by tools/FlashAttention.Cuda.Probe (its cli step runs this same entry point).
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

    [Theory]
    [InlineData("--softmax", "--dtype fp16 --softmax {0}")]
    [InlineData("--variant cosine", "--dtype fp16 --variant cosine")]
    [InlineData("--dtype", "--dtype fp32")]
    public void UnsupportedFlagsExit2NamingTheFlagBeforeTouchingTheDevice(string culprit, string extra)
    {
        var (code, _, stderr) = Run(Forward(string.Format(extra, P("p.npy")).Split(' ')));
        Assert.Equal(2, code);
        Assert.Single(stderr.TrimEnd().Split('\n'));
        Assert.Contains(culprit, stderr);
        Assert.Contains("--device cuda", stderr);
        Assert.False(File.Exists(P("o.npy")));
    }

    [Fact]
    public void BackwardOnCudaExits2()
    {
        var (code, _, stderr) = Run("backward", "--q", P("q.npy"), "--k", P("k.npy"), "--v", P("v.npy"), "--out", P("q.npy"), "--lse", P("q.npy"),
            "--dout", P("q.npy"), "--dq", P("dq.npy"), "--dk", P("dk.npy"), "--dv", P("dv.npy"), "--device", "cuda");
        Assert.Equal(2, code);
        Assert.Contains("--device cuda", stderr);
        Assert.Contains("backward", stderr);
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
