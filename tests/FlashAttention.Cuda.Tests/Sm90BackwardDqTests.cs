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
        Assert.True(Applies(1, 64));
        Assert.True(Applies(1000, 1024, options: new AttentionOptions { Scale = -0.2f }));
        // Every option it does not implement, another element type or head dim, a key length off the 64-key tiles, the
        // packed layout, user modifiers: the mma.sync dQ kernel.
        Assert.False(Applies(4096, 4096, bf16: false));
        Assert.False(Applies(4096, 4096, userMods: true));
        Assert.False(Applies(4096, 4096, d: 128));
        Assert.False(Applies(4096, 4096, d: 56));
        Assert.False(Applies(4096, 4095));
        Assert.False(Applies(4096, 32));
        foreach (var options in new AttentionOptions[]
                 {
                     new() { Causal = true }, new() { WindowLeft = 100, WindowRight = 100 }, new() { Softcap = 30f },
                     new() { AlibiSlopes = new[] { 0.5f, 0.25f, 0.125f, 0.0625f } }, new() { KeyPaddingMask = new bool[2 * 4096] },
                     new() { DropoutP = 0.1f, Seed = 1 }, new() { Variant = AttentionVariant.Cosine },
                 })
            Assert.False(Applies(4096, 4096, options: options), options.ToString());
        var packed = new VarlenLayout(new[] { 0, 4096, 8192 }, new[] { 0, 4096, 8192 }, 4, 2, 64);
        Assert.False(Sm90BackwardDq.Applies(packed, null, true, false));
    }

    [Fact]
    public void OnlyTheHeadDim64DefaultsAllowIt_AndTheHostEmulationNeverTakesIt()
    {
        Assert.True(CudaAttention.DefaultBackward(64, atomicDq: false).HopperDq);
        Assert.False(CudaAttention.DefaultBackward(64, atomicDq: false, sm90: false).HopperDq);
        Assert.False(CudaAttention.DefaultBackward(64, atomicDq: true).HopperDq);
        foreach (int d in new[] { 32, 96, 128, 256 })
            Assert.False(CudaAttention.DefaultBackward(d, atomicDq: false).HopperDq);
        using var emulation = CudaAttention.CreateHostEmulation();
        Assert.Equal("DQ_D64_M128_N32_W4", emulation.DqKernelLabel(new AttentionShape(1, 1024, 1024, 2, 2, 64), null, typeof(Bf16Kind)));
    }

    [Fact]
    public void LaunchGrid_CoversEveryQueryRowOfEveryHead()
    {
        Assert.Equal((8, 6, 3), Sm90BackwardDq.LaunchGrid(new AttentionShape(3, 1000, 1024, 6, 2, 64)));
        Assert.True(Sm90BackwardDq.SharedBytes <= 227 * 1024 / Sm90BackwardDq.MinBlocksPerSm);
        Assert.True(Sm90BackwardDq.Threads * 128 * Sm90BackwardDq.MinBlocksPerSm <= 65536);
    }

    [Fact]
    public void Kernel_IsSm90a_WithoutLocalMemory_AndIssuesThreeChainedProductsPerTile()
    {
        using var compiler = new KernelCompiler();
        var (ptx, _) = compiler.Compile(typeof(Sm90BackwardDq).GetMethod(nameof(Sm90BackwardDq.KernelD64))!, Sm90BackwardDq.Threads,
            Sm90BackwardDq.MinBlocksPerSm);
        Assert.True(KernelCompiler.IsSm90Only(ptx));
        Assert.Contains(".target sm_90a", ptx);
        Assert.Contains(".maxntid 256, 1, 1", ptx);
        Assert.Contains(".minnctapersm 2", ptx);
        Assert.DoesNotContain(".local", ptx);
        // S and dP (SS m64n64k16, four steps each) and dQ += dS·K (RS m64n64k16 with B transposed, four steps), one
        // block each, each with its one wgmma.fence.
        var blocks = ptx.Split('\n').Where(l => l.Contains("wgmma.mma_async", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, blocks.Count);
        Assert.All(blocks, block => Assert.Single(Regex.Matches(block, @"wgmma\.fence\.sync\.aligned")));
        Assert.All(blocks, block => Assert.Equal(4, Regex.Matches(block, @"wgmma\.mma_async\.sync\.aligned\.m64n64k16\.f32\.bf16\.bf16").Count));
        Assert.Single(blocks, block => block.Contains(", 1, 1, 1;", StringComparison.Ordinal));
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
        foreach (var (b, nq, nk, h, hkv, scale) in new[] { (2, 1, 64, 2, 1, 0f), (1, 7, 448, 4, 2, 0f), (2, 127, 128, 3, 3, 0f), (1, 1000, 1024, 2, 1, 0f),
                     (1, 2111, 2112, 2, 2, -0.3f), (2, 129, 256, 4, 1, 0f), (1, 300, 384, 2, 2, 0.05f), (1, 1, 640, 1, 1, 0f) })
        {
            var shape = new AttentionShape(b, nq, nk, h, hkv, 64);
            var options = scale == 0f ? new AttentionOptions() : new AttentionOptions { Scale = scale };
            Assert.Equal(Sm90BackwardDq.Label, cuda.DqKernelLabel(shape, options, typeof(Bf16Kind)));
            int seed = Environment.TickCount + nq;
            var hopper = GpuChecks.BackwardGradients<BFloat16>(cuda, shape, options, seed);
            bool saved = Sm90BackwardDq.Enabled;
            Sm90BackwardDq.Enabled = false;
            try
            {
                Assert.Equal("DQ_D64_M128_N32_W4", cuda.DqKernelLabel(shape, options, typeof(Bf16Kind)));
                var mma = GpuChecks.BackwardGradients<BFloat16>(cuda, shape, options, seed);
                string what = $"B={b} Nq={nq} Nk={nk} H={h}/{hkv} scale={scale}";
                Assert.Equal(mma.Dk.Select(x => (float)x), hopper.Dk.Select(x => (float)x));
                Assert.Equal(mma.Dv.Select(x => (float)x), hopper.Dv.Select(x => (float)x));
                double error = GpuChecks.RelativeError(hopper.Dq, hopper.Reference.DQ, $"{what}: dq");
                double mmaError = GpuChecks.RelativeError(mma.Dq, hopper.Reference.DQ, $"{what}: mma.sync dq");
                Assert.True(error <= 1.6e-2, $"{what}: dq relative error {error:E2} (mma.sync kernel {mmaError:E2})");
                Assert.True(error <= 2 * mmaError + 1e-3, $"{what}: dq relative error {error:E2} against the mma.sync kernel's {mmaError:E2}");
            }
            finally
            {
                Sm90BackwardDq.Enabled = saved;
            }
        }
    }
}
