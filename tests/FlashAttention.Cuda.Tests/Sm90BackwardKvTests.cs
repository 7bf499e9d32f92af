using System.Text.RegularExpressions;
using FlashAttention.Cuda.Kernels;
using FlashAttention.Cuda.Ptx;
using Xunit;

namespace FlashAttention.Cuda.Tests;

/// <summary>The Hopper wgmma dK/dV kernel of the split backward (<see cref="Sm90BackwardKv"/>): when it is taken, its PTX, and its results.</summary>
public class Sm90BackwardKvTests
{
    private static bool Applies(int nq, int nk, int d = 64, AttentionOptions? options = null, bool bf16 = true, bool userMods = false) =>
        Sm90BackwardKv.Applies(new AttentionShape(2, nq, nk, 4, 2, d), options, bf16, userMods);

    [Fact]
    public void Applies_OnlyToThePlainBf16HeadDim64Case_AtAnyLength()
    {
        Assert.Equal(Sm90BackwardKv.DefaultMinSeqK, Sm90BackwardKv.MinSeqK);
        int shortest = Sm90BackwardKv.MinSeqK;
        Assert.True(Applies(16384, 16384));
        Assert.True(Applies(1, Math.Max(shortest, 1)));
        Assert.True(Applies(1000, Math.Max(shortest, 1001), options: new AttentionOptions { Scale = -0.2f }));
        Assert.True(Applies(7, Math.Max(shortest, 8191)));
        if (shortest > 1)
            Assert.False(Applies(shortest, shortest - 1));
        Assert.False(Applies(8192, 8192, bf16: false));
        Assert.False(Applies(8192, 8192, userMods: true));
        Assert.False(Applies(8192, 8192, d: 128));
        Assert.False(Applies(8192, 8192, d: 56));
        foreach (var options in new AttentionOptions[]
                 {
                     new() { Causal = true }, new() { WindowLeft = 100, WindowRight = 100 }, new() { Softcap = 30f },
                     new() { AlibiSlopes = new[] { 0.5f, 0.25f, 0.125f, 0.0625f } }, new() { KeyPaddingMask = new bool[2 * 8192] },
                     new() { DropoutP = 0.1f, Seed = 1 }, new() { Variant = AttentionVariant.Cosine },
                 })
            Assert.False(Applies(8192, 8192, options: options), options.ToString());
        var packed = new VarlenLayout(new[] { 0, 8192, 16384 }, new[] { 0, 8192, 16384 }, 4, 2, 64);
        Assert.False(Sm90BackwardKv.Applies(packed, null, true, false));
    }

    [Fact]
    public void TheHostEmulationNeverTakesIt()
    {
        using var emulation = CudaAttention.CreateHostEmulation();
        Assert.Equal("DKV_D64_N64_M64_W4_KR", emulation.KvKernelLabel(new AttentionShape(1, 8192, 8192, 2, 2, 64), null, typeof(Bf16Kind)));
    }

    [Fact]
    public void LaunchGrid_CoversEveryKeyRowOfEveryKeyHead_AndEachFormFitsItsOccupancy()
    {
        var shape = new AttentionShape(3, 1000, 1025, 6, 2, 64);
        Assert.Equal((9, 2, 3), Sm90BackwardKv.LaunchGrid(Sm90BackwardKv.Forms[0], shape));
        Assert.Equal((6, 2, 3), Sm90BackwardKv.LaunchGrid(Sm90BackwardKv.Forms[1], shape));
        foreach (var form in Sm90BackwardKv.Forms)
        {
            Assert.True(form.SharedBytes * form.MinBlocksPerSm <= 227 * 1024, form.Label);
            Assert.Equal(64 * form.Warpgroups, form.BlockN);
        }
    }

    [Fact]
    public void TheEnvironmentNamesAForm_ZeroTurnsItOff()
    {
        Assert.Null(Sm90BackwardKv.Parse("0"));
        Assert.Same(Sm90BackwardKv.Forms[0], Sm90BackwardKv.Parse(null));
        Assert.Same(Sm90BackwardKv.Forms[0], Sm90BackwardKv.Parse("WG2_RS"));
        Assert.Same(Sm90BackwardKv.Forms[1], Sm90BackwardKv.Parse("WG3_RS"));
        Assert.Same(Sm90BackwardKv.Forms[2], Sm90BackwardKv.Parse("WG3"));
        Assert.Same(Sm90BackwardKv.Forms[0], Sm90BackwardKv.Parse("nonsense"));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void Kernel_IsSm90a_WithoutLocalMemory_AndIssuesFourChainedProductsPerTile(int index)
    {
        var form = Sm90BackwardKv.Forms[index];
        using var compiler = new KernelCompiler();
        var (ptx, _) = compiler.Compile(form.Kernel, form.Threads, form.MinBlocksPerSm);
        Assert.True(KernelCompiler.IsSm90Only(ptx));
        Assert.Contains(".target sm_90a", ptx);
        Assert.Contains($".maxntid {form.Threads}, 1, 1", ptx);
        Assert.Contains($".minnctapersm {form.MinBlocksPerSm}", ptx);
        Assert.DoesNotContain(".local", ptx);
        // Sᵀ and dPᵀ (four steps each, B = Q and dO by rows) and dV, dK (four RS steps each with B transposed), one block
        // each with its one wgmma.fence; K and V from registers (RS) or shared memory (SS).
        var blocks = ptx.Split('\n').Where(l => l.Contains("wgmma.mma_async", StringComparison.Ordinal)).ToList();
        Assert.Equal(4, blocks.Count);
        Assert.All(blocks, block => Assert.Single(Regex.Matches(block, @"wgmma\.fence\.sync\.aligned")));
        Assert.All(blocks, block => Assert.Equal(4, Regex.Matches(block, @"wgmma\.mma_async\.sync\.aligned\.m64n64k16\.f32\.bf16\.bf16").Count));
        Assert.Equal(2, blocks.Count(block => block.Contains(", 1, 1, 1;", StringComparison.Ordinal)));
        bool registers = form.Label.EndsWith("_RS", StringComparison.Ordinal);
        Assert.Equal(registers ? 4 : 2, blocks.Count(block => Regex.IsMatch(block, @"\{%r\d+, %r\d+, %r\d+, %r\d+\}")));
        // Sᵀ's group is waited for before dPᵀ's (Pᵀ is computed while dPᵀ is in flight).
        Assert.Contains("wgmma.wait_group.sync.aligned 1", ptx);
    }

    /// <summary>
    /// Odd lengths (1 to past a block, Nk off the 64-key tiles), Nq ≠ Nk, GQA, negative and small scales, fresh inputs:
    /// the whole backward with each wgmma dK/dV form against float64, and its dk, dv against the mma.sync dK/dV kernel's
    /// on the same inputs (dq comes from the same kernel either way, so it must match bit for bit).
    /// </summary>
    [Sm90Fact]
    public void MatchesReferenceAndTheMmaSyncKernel()
    {
        using var cuda = new CudaAttention();
        var saved = (Sm90BackwardKv.Selected, Sm90BackwardKv.MinSeqK);
        try
        {
            Sm90BackwardKv.MinSeqK = 1;
            foreach (var (b, nq, nk, h, hkv, scale) in new[] { (2, 1, 1, 2, 1, 0f), (1, 7, 449, 4, 2, 0f), (2, 127, 128, 3, 3, 0f), (1, 1000, 1024, 4, 1, 0f),
                         (1, 2111, 2112, 2, 2, -0.3f), (2, 129, 255, 4, 1, 0f), (1, 300, 385, 2, 2, 0.05f), (1, 1, 640, 1, 1, 0f), (1, 333, 8256, 2, 1, 0f),
                         (1, 1000, 7, 2, 2, 0f) })
            {
                var shape = new AttentionShape(b, nq, nk, h, hkv, 64);
                var options = scale == 0f ? new AttentionOptions() : new AttentionOptions { Scale = scale };
                int seed = Environment.TickCount + nq;
                string what = $"B={b} Nq={nq} Nk={nk} H={h}/{hkv} scale={scale}";
                Sm90BackwardKv.Selected = null;
                Assert.Equal("DKV_D64_N64_M64_W4_KR", cuda.KvKernelLabel(shape, options, typeof(Bf16Kind)));
                var mma = GpuChecks.BackwardGradients<BFloat16>(cuda, shape, options, seed);
                double mmaDk = GpuChecks.RelativeError(mma.Dk, mma.Reference.DK, $"{what}: mma.sync dk");
                double mmaDv = GpuChecks.RelativeError(mma.Dv, mma.Reference.DV, $"{what}: mma.sync dv");
                foreach (var form in Sm90BackwardKv.Forms)
                {
                    Sm90BackwardKv.Selected = form;
                    Assert.Equal(form.Label, cuda.KvKernelLabel(shape, options, typeof(Bf16Kind)));
                    var hopper = GpuChecks.BackwardGradients<BFloat16>(cuda, shape, options, seed);
                    Assert.Equal(mma.Dq.Select(x => (float)x), hopper.Dq.Select(x => (float)x));
                    foreach (var (name, actual, expected, baseline) in new[] { ("dk", hopper.Dk, hopper.Reference.DK, mmaDk), ("dv", hopper.Dv, hopper.Reference.DV, mmaDv) })
                    {
                        double error = GpuChecks.RelativeError(actual, expected, $"{form.Label} {what}: {name}");
                        Assert.True(error <= 1.6e-2, $"{form.Label} {what}: {name} relative error {error:E2} (mma.sync kernel {baseline:E2})");
                        Assert.True(error <= 2 * baseline + 1e-3, $"{form.Label} {what}: {name} relative error {error:E2} against the mma.sync kernel's {baseline:E2}");
                    }
                }
            }
        }
        finally
        {
            (Sm90BackwardKv.Selected, Sm90BackwardKv.MinSeqK) = saved;
        }
    }
}
