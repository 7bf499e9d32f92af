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
    public void Applies_ToThePlainOrWindowedBf16HeadDim64And128Case_AtAnyLength()
    {
        Assert.Equal(Sm90BackwardKv.DefaultMinSeqK, Sm90BackwardKv.MinSeqK);
        int shortest = Sm90BackwardKv.MinSeqK;
        Assert.True(Applies(16384, 16384));
        Assert.True(Applies(1, Math.Max(shortest, 1)));
        Assert.True(Applies(1000, Math.Max(shortest, 1001), options: new AttentionOptions { Scale = -0.2f }));
        Assert.True(Applies(7, Math.Max(shortest, 8191)));
        Assert.True(Applies(129, Math.Max(shortest, 1000), d: 128));
        Assert.True(Applies(8192, 8192, options: new AttentionOptions { Causal = true }));
        Assert.True(Applies(8192, 8000, d: 128, options: new AttentionOptions { WindowLeft = 100, WindowRight = 0 }));
        if (shortest > 1)
            Assert.False(Applies(shortest, shortest - 1));
        Assert.False(Applies(8192, 8192, bf16: false));
        Assert.False(Applies(8192, 8192, userMods: true));
        foreach (int d in new[] { 32, 56, 96, 100, 256 })
            Assert.False(Applies(8192, 8192, d: d));
        foreach (var options in new AttentionOptions[]
                 {
                     new() { Softcap = 30f },
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
        Assert.Equal("DKV_D128_N64_M64_W4_G2x2", emulation.KvKernelLabel(new AttentionShape(1, 8192, 8192, 2, 2, 128), null, typeof(Bf16Kind)));
    }

    [Fact]
    public void LaunchGrid_CoversEveryKeyRowOfEveryKeyHead_AndEachFormFitsItsOccupancy()
    {
        var shape = new AttentionShape(3, 1000, 1025, 6, 2, 64);
        Assert.Equal((6, 2, 3), Sm90BackwardKv.LaunchGrid(Sm90BackwardKv.Forms[0], shape));
        Assert.Equal((9, 2, 3), Sm90BackwardKv.LaunchGrid(Sm90BackwardKv.Forms[2], shape with { HeadDim = 128 }));
        foreach (var form in Sm90BackwardKv.Forms)
        {
            Assert.True(form.SharedBytes * form.MinBlocksPerSm <= 227 * 1024, form.Label);
            Assert.Equal(64 * form.Warpgroups, form.BlockN);
            Assert.Contains($"_D{form.HeadDim}_N{form.BlockN}_M64_", form.Label);
        }
    }

    [Fact]
    public void TheEnvironmentNamesAForm_ZeroTurnsItOff()
    {
        var saved = Sm90BackwardKv.Choice;
        try
        {
            var forms = Sm90BackwardKv.Forms;
            (string? Choice, Sm90BackwardKv.Form? D64, Sm90BackwardKv.Form? D128)[] cases =
            [
                ("0", null, null), (null, null, null), ("1", forms[0], forms[2]), ("WG3", forms[0], forms[2]), ("WG3_SERIAL", forms[1], forms[2]),
                ("WG2_RS", forms[0], forms[2]), ("WG2_SERIAL", forms[0], forms[2]), ("WG2", forms[0], forms[3]), ("nonsense", forms[0], forms[2]),
            ];
            foreach (var (choice, d64, d128) in cases)
            {
                Sm90BackwardKv.Choice = choice;
                Assert.Same(d64, Sm90BackwardKv.Selected(64));
                Assert.Same(d128, Sm90BackwardKv.Selected(128));
                Assert.Null(Sm90BackwardKv.Selected(96));
            }
            Assert.Equal(["WG3", "WG3_SERIAL", "WG2_SERIAL", "WG2"], forms.Select(f => f.Suffix));
        }
        finally
        {
            Sm90BackwardKv.Choice = saved;
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
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
        // each with its one wgmma.fence.
        var blocks = ptx.Split('\n').Where(l => l.Contains("wgmma.mma_async", StringComparison.Ordinal)).ToList();
        Assert.Equal(4, blocks.Count);
        Assert.All(blocks, block => Assert.Single(Regex.Matches(block, @"wgmma\.fence\.sync\.aligned")));
        // Sᵀ and dPᵀ: head dim / 16 steps of m64n64k16; dV and dK: four steps of m64n(head dim)k16.
        var transposed = blocks.Where(block => block.Contains(", 1, 1, 1;", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, transposed.Count);
        Assert.All(transposed, block => Assert.Equal(4, Regex.Matches(block, $@"wgmma\.mma_async\.sync\.aligned\.m64n{form.HeadDim}k16\.f32\.bf16\.bf16").Count));
        Assert.All(blocks.Except(transposed), block =>
            Assert.Equal(form.HeadDim / 16, Regex.Matches(block, @"wgmma\.mma_async\.sync\.aligned\.m64n64k16\.f32\.bf16\.bf16").Count));
        // Only dV and dK take an A operand from registers (Pᵀ and dSᵀ); K and V come from shared memory.
        Assert.Equal(2, blocks.Count(block => Regex.IsMatch(block, @"\{%r\d+, %r\d+, %r\d+, %r\d+\}")));
        // Pᵀ while dPᵀ is in flight: Sᵀ's group is waited for first; the serial forms wait for both at once.
        Assert.Equal(!form.Label.EndsWith("_SERIAL", StringComparison.Ordinal), ptx.Contains("wgmma.wait_group.sync.aligned 1", StringComparison.Ordinal));
    }

    /// <summary>
    /// Head dims 64 and 128, odd lengths (1 to past a block, Nk off the 64-key tiles), Nq ≠ Nk, GQA, negative and small scales, fresh inputs:
    /// the whole backward with each wgmma dK/dV form against float64, and its dk, dv against the mma.sync dK/dV kernel's
    /// on the same inputs (dq comes from the same kernel either way, so it must match bit for bit).
    /// </summary>
    [Sm90Fact]
    public void MatchesReferenceAndTheMmaSyncKernel()
    {
        using var cuda = new CudaAttention();
        var saved = (Sm90BackwardKv.Choice, Sm90BackwardKv.MinSeqK);
        // Every shape, window and form runs and each failure is listed, so that one device run tells all of them apart.
        var failures = new List<string>();
        try
        {
            Sm90BackwardKv.MinSeqK = 1;
            foreach (var (b, nq, nk, h, hkv, scale, d) in new[] { (2, 1, 1, 2, 1, 0f, 64), (1, 7, 449, 4, 2, 0f, 64), (2, 127, 128, 3, 3, 0f, 64), (1, 1000, 1024, 4, 1, 0f, 64),
                         (1, 2111, 2112, 2, 2, -0.3f, 64), (2, 129, 255, 4, 1, 0f, 64), (1, 300, 385, 2, 2, 0.05f, 64), (1, 1, 640, 1, 1, 0f, 64), (1, 333, 8256, 2, 1, 0f, 64),
                         (1, 1000, 7, 2, 2, 0f, 64), (2, 1, 1, 2, 1, 0f, 128), (1, 7, 449, 4, 2, 0f, 128), (2, 127, 128, 3, 3, 0.05f, 128), (1, 1000, 1023, 4, 1, 0f, 128),
                         (1, 2111, 2112, 2, 2, -0.3f, 128), (1, 333, 8256, 2, 1, 0f, 128) })
            {
                var shape = new AttentionShape(b, nq, nk, h, hkv, d);
              foreach (var window in Windows(nq, nk))
              {
                var options = (scale == 0f ? new AttentionOptions() : new AttentionOptions { Scale = scale }) with
                {
                    Causal = window.Causal, WindowLeft = window.Left, WindowRight = window.Right,
                };
                int seed = Environment.TickCount + nq;
                string what = $"B={b} Nq={nq} Nk={nk} H={h}/{hkv} D={d} scale={scale} causal={window.Causal} window=({window.Left},{window.Right})";
                Sm90BackwardKv.Choice = "0";
                Assert.Equal(d == 64 ? "DKV_D64_N64_M64_W4_KR" : "DKV_D128_N64_M64_W4_G2x2", cuda.KvKernelLabel(shape, options, typeof(Bf16Kind)));
                var mma = GpuChecks.BackwardGradients<BFloat16>(cuda, shape, options, seed);
                double mmaDk = GpuChecks.RelativeError(mma.Dk, mma.Reference.DK, $"{what}: mma.sync dk");
                double mmaDv = GpuChecks.RelativeError(mma.Dv, mma.Reference.DV, $"{what}: mma.sync dv");
                foreach (var form in Sm90BackwardKv.Forms.Where(f => f.HeadDim == d))
                {
                    Sm90BackwardKv.Choice = form.Suffix;
                    Assert.Equal(form.Label, cuda.KvKernelLabel(shape, options, typeof(Bf16Kind)));
                    var hopper = GpuChecks.BackwardGradients<BFloat16>(cuda, shape, options, seed);
                    if (!mma.Dq.Select(x => (float)x).SequenceEqual(hopper.Dq.Select(x => (float)x)))
                        failures.Add($"{form.Label} {what}: dq differs from the mma.sync run's");
                    foreach (var (name, actual, expected, baseline) in new[] { ("dk", hopper.Dk, hopper.Reference.DK, mmaDk), ("dv", hopper.Dv, hopper.Reference.DV, mmaDv) })
                    {
                        try
                        {
                            double error = GpuChecks.RelativeError(actual, expected, $"{form.Label} {what}: {name}");
                            if (!(error <= 1.6e-2 && error <= 2 * baseline + 1e-3))
                                failures.Add($"{form.Label} {what}: {name} relative error {error:E2} (mma.sync kernel {baseline:E2})");
                        }
                        catch (Xunit.Sdk.XunitException nan)
                        {
                            failures.Add(nan.Message);
                        }
                    }
                }
              }
            }
        }
        finally
        {
            (Sm90BackwardKv.Choice, Sm90BackwardKv.MinSeqK) = saved;
        }
        Assert.True(failures.Count == 0, $"{failures.Count} failures:\n" + string.Join("\n", failures));
    }

    /// <summary>
    /// No window, causal, and for lengths past a block one local window (on both sides, the right only or the left only,
    /// in turn by the lengths), so that every edge of the mask is met without multiplying the test's time.
    /// </summary>
    private static IEnumerable<(bool Causal, int Left, int Right)> Windows(int nq, int nk)
    {
        yield return (false, -1, -1);
        yield return (true, -1, -1);
        if (Math.Max(nq, nk) > 200)
            yield return ((nq + nk) % 3) switch { 0 => (false, 150, 37), 1 => (false, -1, 90), _ => (false, 200, -1) };
    }
}
