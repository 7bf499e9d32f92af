using System.Runtime.CompilerServices;
using FlashAttention.Cuda.Ptx;

namespace FlashAttention.Cuda.Kernels;

/// <summary>Hand-written helpers of the generated forward kernels (ForwardKernels.g.cs).</summary>
internal static partial class ForwardKernels
{
    /// <summary>
    /// Row-maximum step. With ALiBi or a score modifier the kernel converts scores to base-2 logits before the maximum
    /// (neither is a multiple of the raw score), so the largest logit is the maximum whatever the sign of the scale;
    /// otherwise the score mode decides (maximum, or minimum for a negative scale).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Reduce<TMode, TFeatures, TScore>(float a, float b)
        where TMode : struct, IScoreMode
        where TFeatures : struct, IFeatures
        where TScore : struct, ICudaScoreMod =>
        default(TFeatures).Alibi || default(TScore).Enabled ? PtxOps.Max(a, b) : default(TMode).Reduce(a, b);
}
