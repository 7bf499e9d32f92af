using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace FlashAttention.Cpu;

/// <summary>
/// How a kernel chooses the per-row shift m in P = exp(S − m). The softmax variant tracks a running max
/// (online softmax); the cosine variant knows every score is ≤ its bound, so the shift is that constant and the
/// max reduction and the rescaling of the accumulator disappear from the specialised kernel.
/// </summary>
internal interface IShiftRule
{
    /// <summary>Whether the shift follows the running row max (else it stays at <see cref="Initial"/>).</summary>
    bool TracksMax { get; }

    /// <summary>The shift before any tile is seen.</summary>
    float Initial { get; }
}

/// <summary>Online softmax: the running row max.</summary>
internal readonly struct RunningMax : IShiftRule
{
    public bool TracksMax => true;
    public float Initial => float.NegativeInfinity;
}

/// <summary>Cosine attention: a constant shift equal to the score bound.</summary>
internal readonly struct FixedBound(float bound) : IShiftRule
{
    public bool TracksMax => false;
    public float Initial => bound;
}

/// <summary>Vectorised row primitives over float pointers (count is a multiple of the lane width or handled by a scalar tail).</summary>
internal static unsafe class RowMath
{
    /// <summary>x[i] = exp(x[i] − shift) in place; −∞ entries become 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ExpShifted(float* x, int n, float shift)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var s = Vector512.Create(shift);
            for (; i <= n - 16; i += 16)
                FastExp.Exp(Vector512.Load(x + i) - s).Store(x + i);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var s = Vector256.Create(shift);
            for (; i <= n - 8; i += 8)
                FastExp.Exp(Vector256.Load(x + i) - s).Store(x + i);
        }
        for (; i < n; i++)
            x[i] = FastExp.Exp(x[i] - shift);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Scale(float* x, int n, float factor)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var f = Vector256.Create(factor);
            for (; i <= n - 8; i += 8)
                (Vector256.Load(x + i) * f).Store(x + i);
        }
        for (; i < n; i++)
            x[i] *= factor;
    }


    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Dot(float* a, float* b, int n)
    {
        int i = 0;
        float sum = 0f;
        if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            var acc = Vector256<float>.Zero;
            for (; i <= n - 8; i += 8)
                acc = Vector256.FusedMultiplyAdd(Vector256.Load(a + i), Vector256.Load(b + i), acc);
            sum = Vector256.Sum(acc);
        }
        for (; i < n; i++)
            sum += a[i] * b[i];
        return sum;
    }

    /// <summary>dS = P∘(dP − D) in place over dP.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SoftmaxGradient(float* dP, float* p, float rowDot, int n)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var dot = Vector256.Create(rowDot);
            for (; i <= n - 8; i += 8)
                (Vector256.Load(p + i) * (Vector256.Load(dP + i) - dot)).Store(dP + i);
        }
        for (; i < n; i++)
            dP[i] = p[i] * (dP[i] - rowDot);
    }

    /// <summary>dst[i] *= src[i].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply(float* dst, float* src, int n)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
            for (; i <= n - 8; i += 8)
                (Vector256.Load(dst + i) * Vector256.Load(src + i)).Store(dst + i);
        for (; i < n; i++)
            dst[i] *= src[i];
    }

    /// <summary>dst[i] += src[i].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Add(float* dst, float* src, int n)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
            for (; i <= n - 8; i += 8)
                (Vector256.Load(dst + i) + Vector256.Load(src + i)).Store(dst + i);
        for (; i < n; i++)
            dst[i] += src[i];
    }
}
