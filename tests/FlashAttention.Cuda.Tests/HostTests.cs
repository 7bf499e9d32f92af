using FlashAttention.Cuda.Kernels;
using Xunit;

namespace FlashAttention.Cuda.Tests;

/// <summary>Host-side behaviour that needs no GPU: parameters, validation, availability.</summary>
public class HostTests
{
    [Fact]
    public void ParametersOfACausalGqaCall()
    {
        var shape = new AttentionShape(2, 1000, 1500, 8, 2, 128);
        var options = new AttentionOptions { Causal = true, Scale = 0.1f };
        var variant = CudaAttention.DefaultVariant(128);
        var p = CudaAttention.Parameters(variant, shape, options, 1, 2, 3, 4, 5);
        Assert.Equal((1UL, 2UL, 3UL, 4UL, 5UL), (p.Q, p.K, p.V, p.O, p.Lse));
        Assert.Equal((1000, 1500, 8, 2, 4), (p.SeqQ, p.SeqK, p.Heads, p.KvHeads, p.GroupSize));
        Assert.Equal(BlockInfo.BlockCount(1000, variant.BlockM), p.QueryBlocks);
        Assert.Equal((-1, 0), (p.WindowLeft, p.WindowRight));
        Assert.Equal(0.1f * 1.4426950408889634, p.ScaleLog2, 1e-6);
        // 8 heads whose K/V (1500 × 128 × 4 bytes each) fit in the L2 budget together: one group, longest blocks first.
        Assert.Equal(3, p.HeadGroupShift);
        Assert.Equal((p.QueryBlocks * 8, 1, 2), CudaAttention.GroupedGrid(p.QueryBlocks, 8, 2, p.HeadGroupShift));
    }

    [Theory]
    [InlineData(false, 1024, -1, 0f, 0f, false, "D128_M128_N64_W4_QS_LR_SE_AP")]
    [InlineData(false, 1024, -1, 0f, 0f, true, "D128_M128_N64_W4_QS_LR_SE_AP")]
    [InlineData(false, 1024, -1, 30f, 0f, false, "D128_M128_N64_W4_QS_LR_SE_AP")]
    [InlineData(true, 1024, -1, 0f, 0f, false, "D128_M128_N48_W4_QS_LR_SE")]
    [InlineData(true, 4095, -1, 0f, 0f, false, "D128_M128_N48_W4_QS_LR_SE")]
    [InlineData(true, 4096, -1, 0f, 0f, false, "D128_M128_N64_W4_QS_LR_SE_AP")]
    [InlineData(true, 8192, -1, 0f, 0f, true, "D128_M128_N64_W4_QS_LR_SE_AP")]
    [InlineData(true, 8192, -1, 30f, 0f, false, "D128_M128_N48_W4_QS_LR_SE")]
    [InlineData(false, 8192, 256, 0f, 0f, false, "D128_M128_N48_W4_QS_LR_SE")]
    [InlineData(false, 8192, -1, 0f, 0.1f, false, "D128_M128_N32_W4_QS")]
    [InlineData(true, 8192, -1, 0f, 0.1f, true, "D128_M128_N32_W4_QS")]
    public void TheHeadDim128ForwardKernelFollowsTheMaskAndTheKeyLength(bool causal, int keys, int windowLeft, float softcap,
        float dropout, bool alibi, string expected)
    {
        var shape = new AttentionShape(1, 512, keys, 4, 128);
        var options = new AttentionOptions
        {
            Causal = causal, WindowLeft = windowLeft, WindowRight = windowLeft >= 0 ? 0 : -1, Softcap = softcap,
            DropoutP = dropout, Seed = 1, AlibiSlopes = alibi ? new[] { 0.5f, 0.25f, 0.125f, 0.0625f } : default,
        };
        Assert.Equal(expected, CudaAttention.DefaultVariant(shape, options).Name);
        Assert.Contains(CudaAttention.DefaultVariant(shape, options), CudaAttention.DefaultVariants(128));
    }

    /// <summary>Head dim 64 (and 33–64): the lazy-rescale kernel, but the plain one with ALiBi and Q from shared memory with dropout (run 42).</summary>
    [Theory]
    [InlineData(64, false, 0f, false, 0f, "D64_M128_N64_W4_LR")]
    [InlineData(64, true, 0f, false, 0f, "D64_M128_N64_W4_LR")]
    [InlineData(40, true, 30f, false, 0f, "D64_M128_N64_W4_LR")]
    [InlineData(64, false, 0f, true, 0f, "D64_M128_N64_W4")]
    [InlineData(64, true, 0f, false, 0.1f, "D64_M128_N64_W4_QS")]
    [InlineData(64, false, 0f, true, 0.1f, "D64_M128_N64_W4_QS")]
    public void TheHeadDim64ForwardKernelFollowsTheFeatures(int headDim, bool causal, float softcap, bool alibi, float dropout, string expected)
    {
        var shape = new AttentionShape(1, 300, 700, 4, headDim);
        var options = new AttentionOptions
        {
            Causal = causal, Softcap = softcap, DropoutP = dropout, Seed = 1,
            AlibiSlopes = alibi ? new[] { 0.5f, 0.25f, 0.125f, 0.0625f } : default,
        };
        Assert.Equal(expected, CudaAttention.DefaultVariant(shape, options).Name);
        Assert.Contains(CudaAttention.DefaultVariant(shape, options), CudaAttention.DefaultVariants(64));
    }

    [Fact]
    public void WithoutAMaskTheGridGoesHeadByHead()
    {
        var shape = new AttentionShape(2, 1000, 1500, 8, 2, 128);
        var p = CudaAttention.Parameters(CudaAttention.DefaultVariant(128), shape, null, 1, 2, 3, 4, 5);
        Assert.Equal(0, p.HeadGroupShift);
        var local = CudaAttention.Parameters(CudaAttention.DefaultVariant(128), new AttentionShape(1, 65536, 65536, 4, 128),
            new AttentionOptions { WindowLeft = 256, WindowRight = 0 }, 1, 2, 3, 4, 5);
        Assert.Equal(0, local.HeadGroupShift); // one head's K/V (32 MiB) already fills the budget
    }

    [Fact]
    public void ZeroScaleStaysPositiveSoMaskedEntriesStayMinusInfinity()
    {
        Assert.True(CudaAttention.ScaleLog2(0f) > 0f);
        Assert.Equal(float.NegativeInfinity, float.NegativeInfinity * CudaAttention.ScaleLog2(0f));
        Assert.True(CudaAttention.ScaleLog2(-1f) < 0f);
    }

    [Theory]
    [InlineData(12)]
    [InlineData(100)]
    [InlineData(1)]
    public void HeadDimsTheKernelsCannotTakeAreRefusedBeforeAnyWork(int headDim)
    {
        var shape = new AttentionShape(1, 16, 16, 2, headDim);
        var e = Assert.Throws<NotSupportedException>(() => CudaAttention.CheckSupported(shape, null));
        Assert.Contains("multiples of 8", e.Message);
        Assert.Contains("CPU backend", e.Message);
    }

    [Fact]
    public void EveryOptionIsSupported()
    {
        var shape = new AttentionShape(1, 16, 16, 2, 40);
        CudaAttention.CheckSupported(shape, new AttentionOptions { AlibiSlopes = new float[] { 0.5f, 0.25f }, DropoutP = 0.1f, Softcap = 3 });
        CudaAttention.CheckSupported(shape, new AttentionOptions { Variant = AttentionVariant.Cosine, CosineGroups = 2, Causal = true });
    }

    [Theory]
    [InlineData(8, 32)]
    [InlineData(32, 32)]
    [InlineData(40, 64)]
    [InlineData(64, 64)]
    [InlineData(72, 96)]
    [InlineData(96, 96)]
    [InlineData(104, 128)]
    [InlineData(128, 128)]
    [InlineData(136, 256)]
    [InlineData(256, 256)]
    public void EachHeadDimRunsOnTheNextKernel(int headDim, int kernelDim)
    {
        Assert.Equal(kernelDim, CudaAttention.DefaultVariant(headDim).HeadDim);
        Assert.All(CudaAttention.DefaultBackward(headDim, atomicDq: false).Kv, v => Assert.Equal(kernelDim, v.HeadDim));
        Assert.Equal(kernelDim, CudaAttention.DefaultBackward(headDim, atomicDq: false).Dq!.HeadDim);
        Assert.Equal(kernelDim, CudaAttention.SoftmaxVariant(headDim).HeadDim);
    }

    [Fact]
    public void HeadDim64WithDropoutOnlyPicksTheSharedQueryDqKernel()
    {
        float[] slopes = [0.5f, 0.25f];
        Assert.Equal("DQ_D64_M128_N32_W4", CudaAttention.DefaultBackward(64, atomicDq: false).Dq!.Name);
        Assert.Equal("DQ_D64_M128_N32_W4_QS", CudaAttention.DefaultBackward(64, atomicDq: false, options: new() { DropoutP = 0.1f }).Dq!.Name);
        Assert.Equal("DQ_D64_M128_N32_W4", CudaAttention.DefaultBackward(64, atomicDq: false, options: new() { DropoutP = 0.1f, AlibiSlopes = slopes }).Dq!.Name);
        Assert.Equal("DQ_D64_M128_N32_W4", CudaAttention.DefaultBackward(64, atomicDq: false, options: new() { DropoutP = 0.1f, Softcap = 30 }).Dq!.Name);
        Assert.Equal("DQ_D128_M128_N32_W4_QS", CudaAttention.DefaultBackward(128, atomicDq: false, options: new() { DropoutP = 0.1f }).Dq!.Name);
        Assert.Null(CudaAttention.DefaultBackward(64, atomicDq: true, options: new() { DropoutP = 0.1f }).Dq);
    }

    [Fact]
    public void SoftcapAndPaddingAreSupportedAndPickTheirScoreMode()
    {
        var shape = new AttentionShape(2, 16, 24, 2, 64);
        var variant = CudaAttention.DefaultVariant(64);
        var capped = new AttentionOptions { Softcap = 30, Scale = 0.125f, KeyPaddingMask = new bool[2 * 24] };
        CudaAttention.CheckSupported(shape, capped);
        Assert.Equal(typeof(SoftcapScore), CudaAttention.ScoreMode(shape, capped));
        var p = CudaAttention.Parameters(variant, shape, capped, 1, 2, 3, 4, 5, keyMask: 6);
        Assert.Equal(6UL, p.KeyMask);
        // Prepared score tanh(scale·s/cap) = 1 − 2/(2^(PrepScale·s) + 1); logit in base 2 = cap·log2(e)·tanh.
        Assert.Equal(30 * 1.4426950408889634, p.ScaleLog2, 1e-4);
        Assert.Equal(2 * 1.4426950408889634 * 0.125 / 30, p.PrepScale, 1e-7);
        Assert.Equal(typeof(PositiveScale), CudaAttention.ScoreMode(shape, new AttentionOptions { Scale = 0.5f }));
        Assert.Equal(typeof(NegativeScale), CudaAttention.ScoreMode(shape, new AttentionOptions { Scale = -0.5f }));
    }

    [Fact]
    public void UnsupportedHeadDimAndElementTypeAreRefused()
    {
        Assert.Throws<NotSupportedException>(() => CudaAttention.DefaultVariant(100));
        Assert.Throws<NotSupportedException>(() => CudaAttention.ElementKind<double>());
        Assert.Equal(typeof(Fp16Kind), CudaAttention.ElementKind<float>());
        Assert.Equal(typeof(Fp16Kind), CudaAttention.ElementKind<Half>());
        Assert.Equal(typeof(Fp16Kind), CudaAttention.ElementKind<ILGPU.Half>());
        Assert.Equal(typeof(Bf16Kind), CudaAttention.ElementKind<BFloat16>());
    }

    [NoCudaFact]
    public void WithoutADeviceTheConstructorSaysSo()
    {
        Assert.False(CudaAttention.IsAvailable);
        Assert.False(string.IsNullOrEmpty(CudaAttention.UnavailableReason));
        var e = Assert.Throws<CudaNotAvailableException>(() => new CudaAttention());
        Assert.Contains("CUDA", e.Message);
    }
}
