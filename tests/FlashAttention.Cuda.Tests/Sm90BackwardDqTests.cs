using System.Text.RegularExpressions;
using FlashAttention.Cuda.Kernels;
using FlashAttention.Cuda.Ptx;
using Xunit;

namespace FlashAttention.Cuda.Tests;

/// <summary>The Hopper wgmma dQ kernel of the split backward (<see cref="Sm90BackwardDq"/>): when it is taken, its PTX, and its results.</summary>
public class Sm90BackwardDqTests
{
    private static bool Applies(int nq, int nk, int d = 64, AttentionOptions? options = null, bool bf16 = true, bool userMods = false) =>
        Sm90BackwardDq.Applies(new AttentionShape(2, nq, nk, 4, 2, d), options, bf16, userMods);

    [Fact]
    public void Applies_OnlyToThePlainBf16HeadDim64Case()
    {
        Assert.True(Applies(16384, 16384));
        Assert.True(Applies(1, 8192));
        Assert.True(Applies(1000, 8256, options: new AttentionOptions { Scale = -0.2f }));
        // Below its key length threshold the mma.sync kernel is faster (benchmarks run 44).
        Assert.Equal(8192, Sm90BackwardDq.MinSeqK);
        Assert.False(Applies(4096, 4096));
        Assert.False(Applies(4096, 8128));
        // Every option it does not implement, another element type or head dim, a key length off the 64-key tiles, the
        // packed layout, user modifiers: the mma.sync dQ kernel.
        Assert.False(Applies(8192, 8192, bf16: false));
        Assert.False(Applies(8192, 8192, userMods: true));
        Assert.False(Applies(8192, 8192, d: 128));
        Assert.False(Applies(8192, 8192, d: 56));
        Assert.False(Applies(8192, 8191));
        Assert.False(Applies(8192, 8200));
        foreach (var options in new AttentionOptions[]
                 {
                     new() { Causal = true }, new() { WindowLeft = 100, WindowRight = 100 }, new() { Softcap = 30f },
                     new() { AlibiSlopes = new[] { 0.5f, 0.25f, 0.125f, 0.0625f } }, new() { KeyPaddingMask = new bool[2 * 8192] },
                     new() { DropoutP = 0.1f, Seed = 1 }, new() { Variant = AttentionVariant.Cosine },
                 })
            Assert.False(Applies(8192, 8192, options: options), options.ToString());
        var packed = new VarlenLayout(new[] { 0, 8192, 16384 }, new[] { 0, 8192, 16384 }, 4, 2, 64);
        Assert.False(Sm90BackwardDq.Applies(packed, null, true, false));
    }

    [Fact]
    public void OnlyTheHeadDim64And128DefaultsAllowIt_AndTheHostEmulationNeverTakesIt()
    {
        foreach (int d in new[] { 64, 128 })
        {
            Assert.True(CudaAttention.DefaultBackward(d, atomicDq: false).Hopper);
            Assert.False(CudaAttention.DefaultBackward(d, atomicDq: false, sm90: false).Hopper);
            Assert.False(CudaAttention.DefaultBackward(d, atomicDq: true).Hopper);
        }
        foreach (int d in new[] { 32, 96, 256 })
            Assert.False(CudaAttention.DefaultBackward(d, atomicDq: false).Hopper);
        using var emulation = CudaAttention.CreateHostEmulation();
        Assert.Equal("DQ_D64_M128_N32_W4", emulation.DqKernelLabel(new AttentionShape(1, 8192, 8192, 2, 2, 64), null, typeof(Bf16Kind)));
    }

    [Fact]
    public void LaunchGrid_CoversEveryQueryRowOfEveryHead_AndEachFormFitsItsOccupancy()
    {
        var shape = new AttentionShape(3, 1000, 1024, 6, 2, 64);
        Assert.Equal((6, 6, 3), Sm90BackwardDq.LaunchGrid(Sm90BackwardDq.Forms[0], shape));
        Assert.Equal((8, 6, 3), Sm90BackwardDq.LaunchGrid(Sm90BackwardDq.Forms[2], shape));
        foreach (var form in Sm90BackwardDq.Forms)
        {
            Assert.True(form.SharedBytes * form.MinBlocksPerSm <= 227 * 1024, form.Label);
            Assert.True(form.Threads * Math.Min(255, 65536 / (form.Threads * form.MinBlocksPerSm)) * form.MinBlocksPerSm <= 65536, form.Label);
        }
    }

    [Fact]
    public void TheEnvironmentNamesAForm_ZeroTurnsItOff()
    {
        Assert.Null(Sm90BackwardDq.Parse("0"));
        Assert.Same(Sm90BackwardDq.Forms[0], Sm90BackwardDq.Parse(null));
        Assert.Same(Sm90BackwardDq.Forms[2], Sm90BackwardDq.Parse("WG2"));
        Assert.Same(Sm90BackwardDq.Forms[1], Sm90BackwardDq.Parse("WG2_RS"));
        Assert.Same(Sm90BackwardDq.Forms[0], Sm90BackwardDq.Parse("WG3_RS"));
        Assert.Same(Sm90BackwardDq.Forms[0], Sm90BackwardDq.Parse("nonsense"));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void Kernel_IsSm90a_WithoutLocalMemory_AndIssuesThreeChainedProductsPerTile(int index)
    {
        var form = Sm90BackwardDq.Forms[index];
        using var compiler = new KernelCompiler();
        var (ptx, _) = compiler.Compile(form.Kernel, form.Threads, form.MinBlocksPerSm);
        Assert.True(KernelCompiler.IsSm90Only(ptx));
        Assert.Contains(".target sm_90a", ptx);
        Assert.Contains($".maxntid {form.Threads}, 1, 1", ptx);
        Assert.Contains($".minnctapersm {form.MinBlocksPerSm}", ptx);
        Assert.DoesNotContain(".local", ptx);
        // S and dP (four steps each; B = K and V by rows) and dQ += dS·K (four RS steps with B transposed), one block
        // each, each with its one wgmma.fence; Q and dO from shared memory (SS) or from registers (RS).
        var blocks = ptx.Split('\n').Where(l => l.Contains("wgmma.mma_async", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, blocks.Count);
        Assert.All(blocks, block => Assert.Single(Regex.Matches(block, @"wgmma\.fence\.sync\.aligned")));
        Assert.All(blocks, block => Assert.Equal(4, Regex.Matches(block, @"wgmma\.mma_async\.sync\.aligned\.m64n64k16\.f32\.bf16\.bf16").Count));
        Assert.Single(blocks, block => block.Contains(", 1, 1, 1;", StringComparison.Ordinal));
        bool registers = form.Method != nameof(Sm90BackwardDq.KernelD64);
        Assert.Equal(registers, form.Label.EndsWith("_RS", StringComparison.Ordinal));
        Assert.Equal(registers ? 2 : 0, blocks.Count(block => Regex.IsMatch(block, @"\}, \{%r\d+, %r\d+, %r\d+, %r\d+\}, %fa_b, %fa_p, 1, 1, 0;")));
    }

    /// <summary>
    /// Odd query lengths (1 to past a block), Nq ≠ Nk, GQA, a negative scale, fresh inputs: the whole backward with the
    /// wgmma dQ kernel against float64, and its dq against the mma.sync dQ kernel's on the same inputs (dk and dv are the
    /// same kernels' either way, so they must match bit for bit).
    /// </summary>
    [Sm90Fact]
    public void MatchesReferenceAndTheMmaSyncKernel()
    {
        using var cuda = new CudaAttention();
        var saved = (Sm90BackwardDq.Selected, Sm90BackwardDq.MinSeqK);
        try
        {
            // Short shapes with the threshold lowered, and one past it on the default threshold.
            foreach (var (b, nq, nk, h, hkv, scale) in new[] { (2, 1, 64, 2, 1, 0f), (1, 7, 448, 4, 2, 0f), (2, 127, 128, 3, 3, 0f), (1, 1000, 1024, 2, 1, 0f),
                         (1, 2111, 2112, 2, 2, -0.3f), (2, 129, 256, 4, 1, 0f), (1, 300, 384, 2, 2, 0.05f), (1, 1, 640, 1, 1, 0f), (1, 333, 8256, 2, 1, 0f) })
            {
                Sm90BackwardDq.MinSeqK = nk >= Sm90BackwardDq.DefaultMinSeqK ? Sm90BackwardDq.DefaultMinSeqK : 64;
                var shape = new AttentionShape(b, nq, nk, h, hkv, 64);
                var options = scale == 0f ? new AttentionOptions() : new AttentionOptions { Scale = scale };
                int seed = Environment.TickCount + nq;
                string what = $"B={b} Nq={nq} Nk={nk} H={h}/{hkv} scale={scale}";
                Sm90BackwardDq.Selected = null;
                Assert.Equal("DQ_D64_M128_N32_W4", cuda.DqKernelLabel(shape, options, typeof(Bf16Kind)));
                var mma = GpuChecks.BackwardGradients<BFloat16>(cuda, shape, options, seed);
                double mmaError = GpuChecks.RelativeError(mma.Dq, mma.Reference.DQ, $"{what}: mma.sync dq");
                foreach (var form in Sm90BackwardDq.Forms)
                {
                    Sm90BackwardDq.Selected = form;
                    Assert.Equal(form.Label, cuda.DqKernelLabel(shape, options, typeof(Bf16Kind)));
                    var hopper = GpuChecks.BackwardGradients<BFloat16>(cuda, shape, options, seed);
                    // dk and dv come from the same kernels either way.
                    Assert.Equal(mma.Dk.Select(x => (float)x), hopper.Dk.Select(x => (float)x));
                    Assert.Equal(mma.Dv.Select(x => (float)x), hopper.Dv.Select(x => (float)x));
                    double error = GpuChecks.RelativeError(hopper.Dq, hopper.Reference.DQ, $"{form.Label} {what}: dq");
                    Assert.True(error <= 1.6e-2, $"{form.Label} {what}: dq relative error {error:E2} (mma.sync kernel {mmaError:E2})");
                    Assert.True(error <= 2 * mmaError + 1e-3, $"{form.Label} {what}: dq relative error {error:E2} against the mma.sync kernel's {mmaError:E2}");
                }
            }
        }
        finally
        {
            (Sm90BackwardDq.Selected, Sm90BackwardDq.MinSeqK) = saved;
        }
    }
}
