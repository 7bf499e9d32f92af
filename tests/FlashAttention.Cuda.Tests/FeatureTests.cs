using System.Text.RegularExpressions;
using FlashAttention.Cuda.Kernels;
using Xunit;

namespace FlashAttention.Cuda.Tests;

/// <summary>
/// ALiBi and dropout without a GPU: the kernels' Philox code (run on the host through <see cref="HostMulHigh"/>) and
/// their key-to-counter mapping against the CPU backend's mask, bit for bit; parameters; and the PTX of each feature set.
/// </summary>
public class FeatureTests
{
    public static TheoryData<float, ulong, ulong> DropoutSettings() => new()
    {
        { 0.1f, 0UL, 0UL },
        { 0.5f, 42UL, 7UL },
        { 0.9f, 0xDEADBEEF_12345678UL, 0xFFFFFFFF_00000003UL },
        { 1e-9f, 123UL, 1UL << 40 },
    };

    [Theory]
    [MemberData(nameof(DropoutSettings))]
    public void KernelPhiloxMatchesCpuMask(float p, ulong seed, ulong offset)
    {
        const int heads = 5;
        var mask = new DropoutMask(p, seed, offset, heads);
        var random = new Random(1234);
        for (int trial = 0; trial < 4000; trial++)
        {
            int b = random.Next(4), h = random.Next(heads), i = random.Next(100_000), key = 2 * random.Next(50_000);
            uint bits = DropoutBits.KeepPair<HostMulHigh>((uint)key >> 2, (uint)i, (uint)(b * heads + h), (uint)offset,
                (uint)seed, (uint)(seed >> 32) ^ (uint)(offset >> 32), (uint)((key >> 1) & 1), mask.KeepThreshold);
            Assert.Equal(mask.IsKept(b, h, i, key), (bits & 1) != 0);
            Assert.Equal(mask.IsKept(b, h, i, key + 1), (bits & 2) != 0);
        }
    }

    /// <summary>
    /// The generated kernels give lane t of a quad keys 2t and 2t + 1 of every 8-key tile j of key block n, and draw them
    /// with counter word 0 = (n·BlockN)/4 + t/2 + 2j and words 0-1 (t even) or 2-3 (t odd); that must be the CPU's key
    /// j mod 4 of counter j/4 for every tile size.
    /// </summary>
    [Fact]
    public void KernelKeyMappingMatchesCpuMask()
    {
        var options = new AttentionOptions { DropoutP = 0.3f, Seed = 99, Offset = 5 };
        var shape = new AttentionShape(2, 300, 700, 3, 64);
        var parameters = CudaAttention.Parameters(CudaAttention.DefaultVariant(64), shape, options, 0, 0, 0, 0, 0);
        var mask = new DropoutMask(0.3f, 99, 5, 3);
        foreach (var variant in ForwardKernels.Variants)
            for (int n = 0; n < 700 / variant.BlockN; n += 3)
                for (int j = 0; j < variant.BlockN / 8; j++)
                    for (int t = 0; t < 4; t++)
                        foreach (int row in new[] { 0, 7, 131 })
                        {
                            uint c0 = (uint)((n * variant.BlockN) >> 2) + (uint)(t >> 1) + (uint)(2 * j);
                            uint bits = DropoutBits.KeepPair<HostMulHigh>(c0, (uint)row, 1 * 3 + 2, parameters.DropOffsetLow,
                                parameters.DropSeedLow, parameters.DropKeyHigh, (uint)(t & 1), parameters.KeepThreshold);
                            int key = n * variant.BlockN + j * 8 + 2 * t;
                            Assert.Equal(mask.IsKept(1, 2, row, key), (bits & 1) != 0);
                            Assert.Equal(mask.IsKept(1, 2, row, key + 1), (bits & 2) != 0);
                        }
    }

    [Fact]
    public void DropoutAndAlibiParametersAndKernelChoice()
    {
        var shape = new AttentionShape(2, 16, 24, 2, 64);
        Assert.Equal(typeof(NoFeatures), CudaAttention.Features(shape, null));
        Assert.Equal(typeof(AlibiFeature), CudaAttention.Features(shape, new AttentionOptions { AlibiSlopes = new float[] { 1, 2 } }));
        Assert.Equal(typeof(DropoutFeature), CudaAttention.Features(shape, new AttentionOptions { DropoutP = 0.2f }));
        Assert.Equal(typeof(AlibiDropoutFeatures),
            CudaAttention.Features(shape, new AttentionOptions { DropoutP = 0.2f, AlibiSlopes = new float[] { 1, 2, 3, 4 } }));
        Assert.Equal(typeof(CosineFeature), CudaAttention.Features(shape, new AttentionOptions { Variant = AttentionVariant.Cosine }, typeof(Bf16Kind)));
        Assert.Equal(typeof(CosineDropoutFeatures), CudaAttention.Features(shape, new AttentionOptions { Variant = AttentionVariant.Cosine, DropoutP = 0.1f }, typeof(Bf16Kind)));
        // fp16's exponent cannot hold the fixed shift's range: the running maximum instead.
        Assert.Equal(typeof(NoFeatures), CudaAttention.Features(shape, new AttentionOptions { Variant = AttentionVariant.Cosine, CosineGroups = 4 }, typeof(Fp16Kind)));

        var options = new AttentionOptions { DropoutP = 0.25f, Seed = 0x11111111_22222222UL, Offset = 0x33333333_44444444UL };
        var p = CudaAttention.Parameters(CudaAttention.DefaultVariant(64), shape, options, 1, 2, 3, 4, 5, alibi: 9);
        Assert.Equal(9UL, p.Alibi);
        Assert.Equal(0x22222222u, p.DropSeedLow);
        Assert.Equal(0x11111111u ^ 0x33333333u, p.DropKeyHigh);
        Assert.Equal(0x44444444u, p.DropOffsetLow);
        Assert.Equal(3221225472u, p.KeepThreshold);
        Assert.Equal(1f / 0.75f, p.DropScale);
        Assert.Equal(1f, CudaAttention.Parameters(CudaAttention.DefaultVariant(64), shape, null, 1, 2, 3, 4, 5).DropScale);
    }

    [Fact]
    public void AlibiSlopesAreExpandedToBatchTimesHeadsInLog2Units()
    {
        var shape = new AttentionShape(2, 16, 24, 2, 64);
        const double log2e = 1.4426950408889634;
        var perHead = CudaAttention.AlibiSlopesLog2(shape, new AttentionOptions { AlibiSlopes = new float[] { 0.5f, 0.25f } });
        Assert.Equal(new[] { 0.5 * log2e, 0.25 * log2e, 0.5 * log2e, 0.25 * log2e }, perHead.Select(x => (double)x), new ToleranceComparer(1e-6));
        var perBatch = CudaAttention.AlibiSlopesLog2(shape, new AttentionOptions { AlibiSlopes = new float[] { 1, 2, 3, 4 } });
        Assert.Equal(new[] { 1 * log2e, 2 * log2e, 3 * log2e, 4 * log2e }, perBatch.Select(x => (double)x), new ToleranceComparer(1e-6));
    }

    public static TheoryData<int, string> FeatureKernels()
    {
        var data = new TheoryData<int, string>();
        foreach (int d in CudaAttention.KernelHeadDims)
            foreach (var f in new[] { nameof(AlibiFeature), nameof(DropoutFeature), nameof(AlibiDropoutFeatures), nameof(CosineFeature), nameof(CosineDropoutFeatures) })
                data.Add(d, f);
        return data;
    }

    [Theory]
    [MemberData(nameof(FeatureKernels))]
    public void FeatureKernelsCompileWithoutCallsAndWithTheirCode(int headDim, string features)
    {
        var type = typeof(IFeatures).Assembly.GetType("FlashAttention.Cuda.Kernels." + features)!;
        var variant = CudaAttention.DefaultVariant(headDim);
        var (ptx, _) = CompiledKernels.Get(variant, typeof(Bf16Kind), typeof(SoftcapScore), type);
        var flags = (IFeatures)Activator.CreateInstance(type)!;
        Assert.DoesNotMatch(@"\bcall", ptx);
        Assert.Equal(flags.Dropout, ptx.Contains("mul.hi.u32"));
        Assert.Equal(flags.Alibi, ptx.Contains("ld.global.nc.f32"));
        // The cosine kernels have no running maximum: no max.f32 reductions and no warp vote for rescaling.
        Assert.Equal(!flags.FixedShift, ptx.Contains("max.f32"));
        int mTiles = variant.BlockM / (variant.Threads / 32) / 16;
        Assert.Equal(mTiles * 2 * (variant.BlockN / 8) * (variant.HeadDim / 16), Regex.Matches(ptx, "mma.sync").Count);
    }

    [Fact]
    public void FastPathHasNoFeatureCode()
    {
        foreach (int d in CudaAttention.KernelHeadDims)
        {
            var (ptx, _) = CompiledKernels.Get(CudaAttention.DefaultVariant(d), typeof(Fp16Kind), typeof(PositiveScale));
            Assert.DoesNotContain("mul.hi.u32", ptx);
            Assert.DoesNotContain("ld.global.nc.f32", ptx);
        }
    }

    private sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance;

        public int GetHashCode(double obj) => 0;
    }
}
