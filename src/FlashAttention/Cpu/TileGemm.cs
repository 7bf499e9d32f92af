using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace FlashAttention.Cpu;

/// <summary>
/// The one matrix product every CPU tile needs: C[m×n] (+)= A[m×k]·B[k×n]. B and C are row-major with leading
/// dimensions; A(i, p) sits at a[i·aRow + p·aCol], so a transposed operand (Pᵀ·dO, dSᵀ·Q, Sᵀ as P) costs nothing.
/// Register-blocked 4 rows × 4 vectors with AVX-512 where n allows (<see cref="Block4x4"/>), else 4 rows × 2 vectors:
/// each step broadcasts four A values and loads two B vectors for eight FMAs.
/// Requires m % 4 == 0 and n % <see cref="Lanes"/> == 0 (callers pad their tiles).
/// Measured on the 16-core Xeon host: this 4×32 AVX-512 block reached 150 GFLOP/s on one core (64×64×64 tiles);
/// an 8-row block, and a column-panel-outer order compiled with AggressiveOptimization, both measured slower there.
/// </summary>
internal static unsafe class TileGemm
{
    /// <summary>Floats per vector of the widest accelerated width (16 with AVX-512, else 8).</summary>
    public static readonly int Lanes = Vector512.IsHardwareAccelerated ? 16 : 8;

    public static void Multiply(float* a, int aRow, int aCol, float* b, int ldb, float* c, int ldc, int m, int n, int k, bool accumulate)
    {
        if (Vector512.IsHardwareAccelerated)
            Multiply512(a, aRow, aCol, b, ldb, c, ldc, m, n, k, accumulate);
        else
            Multiply256(a, aRow, aCol, b, ldb, c, ldc, m, n, k, accumulate);
    }

    private static void Multiply256(float* a, int aRow, int aCol, float* b, int ldb, float* c, int ldc, int m, int n, int k, bool accumulate)
    {
        const int W = 8;
        for (int i = 0; i < m; i += 4)
        {
            float* a0 = a + (nint)i * aRow;
            nint r1 = aRow, r2 = 2 * (nint)aRow, r3 = 3 * (nint)aRow;
            float* c0 = c + i * ldc, c1 = c0 + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
            int j = 0;
            for (; j + 2 * W <= n; j += 2 * W)
            {
                Vector256<float> x00, x01, x10, x11, x20, x21, x30, x31;
                if (accumulate)
                {
                    x00 = Vector256.Load(c0 + j); x01 = Vector256.Load(c0 + j + W);
                    x10 = Vector256.Load(c1 + j); x11 = Vector256.Load(c1 + j + W);
                    x20 = Vector256.Load(c2 + j); x21 = Vector256.Load(c2 + j + W);
                    x30 = Vector256.Load(c3 + j); x31 = Vector256.Load(c3 + j + W);
                }
                else
                {
                    x00 = x01 = x10 = x11 = x20 = x21 = x30 = x31 = Vector256<float>.Zero;
                }
                float* bp = b + j;
                float* ap = a0;
                for (int p = 0; p < k; p++, bp += ldb, ap += aCol)
                {
                    var b0 = Vector256.Load(bp);
                    var b1 = Vector256.Load(bp + W);
                    var s = Vector256.Create(ap[0]);
                    x00 = Vector256.FusedMultiplyAdd(s, b0, x00); x01 = Vector256.FusedMultiplyAdd(s, b1, x01);
                    s = Vector256.Create(ap[r1]);
                    x10 = Vector256.FusedMultiplyAdd(s, b0, x10); x11 = Vector256.FusedMultiplyAdd(s, b1, x11);
                    s = Vector256.Create(ap[r2]);
                    x20 = Vector256.FusedMultiplyAdd(s, b0, x20); x21 = Vector256.FusedMultiplyAdd(s, b1, x21);
                    s = Vector256.Create(ap[r3]);
                    x30 = Vector256.FusedMultiplyAdd(s, b0, x30); x31 = Vector256.FusedMultiplyAdd(s, b1, x31);
                }
                x00.Store(c0 + j); x01.Store(c0 + j + W);
                x10.Store(c1 + j); x11.Store(c1 + j + W);
                x20.Store(c2 + j); x21.Store(c2 + j + W);
                x30.Store(c3 + j); x31.Store(c3 + j + W);
            }
            for (; j < n; j += W)
            {
                Vector256<float> x0, x1, x2, x3;
                if (accumulate)
                {
                    x0 = Vector256.Load(c0 + j); x1 = Vector256.Load(c1 + j);
                    x2 = Vector256.Load(c2 + j); x3 = Vector256.Load(c3 + j);
                }
                else
                {
                    x0 = x1 = x2 = x3 = Vector256<float>.Zero;
                }
                float* bp = b + j;
                float* ap = a0;
                for (int p = 0; p < k; p++, bp += ldb, ap += aCol)
                {
                    var b0 = Vector256.Load(bp);
                    x0 = Vector256.FusedMultiplyAdd(Vector256.Create(ap[0]), b0, x0);
                    x1 = Vector256.FusedMultiplyAdd(Vector256.Create(ap[r1]), b0, x1);
                    x2 = Vector256.FusedMultiplyAdd(Vector256.Create(ap[r2]), b0, x2);
                    x3 = Vector256.FusedMultiplyAdd(Vector256.Create(ap[r3]), b0, x3);
                }
                x0.Store(c0 + j); x1.Store(c1 + j); x2.Store(c2 + j); x3.Store(c3 + j);
            }
        }
    }

    private static void Multiply512(float* a, int aRow, int aCol, float* b, int ldb, float* c, int ldc, int m, int n, int k, bool accumulate)
    {
        const int W = 16;
        for (int i = 0; i < m; i += 4)
        {
            float* a0 = a + (nint)i * aRow;
            nint r1 = aRow, r2 = 2 * (nint)aRow, r3 = 3 * (nint)aRow;
            float* c0 = c + i * ldc, c1 = c0 + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
            int j = 0;
            for (; j + 4 * W <= n; j += 4 * W)
                Block4x4(a0, r1, r2, r3, aCol, b + j, ldb, c0 + j, ldc, k, accumulate);
            for (; j + 2 * W <= n; j += 2 * W)
            {
                Vector512<float> x00, x01, x10, x11, x20, x21, x30, x31;
                if (accumulate)
                {
                    x00 = Vector512.Load(c0 + j); x01 = Vector512.Load(c0 + j + W);
                    x10 = Vector512.Load(c1 + j); x11 = Vector512.Load(c1 + j + W);
                    x20 = Vector512.Load(c2 + j); x21 = Vector512.Load(c2 + j + W);
                    x30 = Vector512.Load(c3 + j); x31 = Vector512.Load(c3 + j + W);
                }
                else
                {
                    x00 = x01 = x10 = x11 = x20 = x21 = x30 = x31 = Vector512<float>.Zero;
                }
                float* bp = b + j;
                float* ap = a0;
                for (int p = 0; p < k; p++, bp += ldb, ap += aCol)
                {
                    var b0 = Vector512.Load(bp);
                    var b1 = Vector512.Load(bp + W);
                    var s = Vector512.Create(ap[0]);
                    x00 = Vector512.FusedMultiplyAdd(s, b0, x00); x01 = Vector512.FusedMultiplyAdd(s, b1, x01);
                    s = Vector512.Create(ap[r1]);
                    x10 = Vector512.FusedMultiplyAdd(s, b0, x10); x11 = Vector512.FusedMultiplyAdd(s, b1, x11);
                    s = Vector512.Create(ap[r2]);
                    x20 = Vector512.FusedMultiplyAdd(s, b0, x20); x21 = Vector512.FusedMultiplyAdd(s, b1, x21);
                    s = Vector512.Create(ap[r3]);
                    x30 = Vector512.FusedMultiplyAdd(s, b0, x30); x31 = Vector512.FusedMultiplyAdd(s, b1, x31);
                }
                x00.Store(c0 + j); x01.Store(c0 + j + W);
                x10.Store(c1 + j); x11.Store(c1 + j + W);
                x20.Store(c2 + j); x21.Store(c2 + j + W);
                x30.Store(c3 + j); x31.Store(c3 + j + W);
            }
            for (; j < n; j += W)
            {
                Vector512<float> x0, x1, x2, x3;
                if (accumulate)
                {
                    x0 = Vector512.Load(c0 + j); x1 = Vector512.Load(c1 + j);
                    x2 = Vector512.Load(c2 + j); x3 = Vector512.Load(c3 + j);
                }
                else
                {
                    x0 = x1 = x2 = x3 = Vector512<float>.Zero;
                }
                float* bp = b + j;
                float* ap = a0;
                for (int p = 0; p < k; p++, bp += ldb, ap += aCol)
                {
                    var b0 = Vector512.Load(bp);
                    x0 = Vector512.FusedMultiplyAdd(Vector512.Create(ap[0]), b0, x0);
                    x1 = Vector512.FusedMultiplyAdd(Vector512.Create(ap[r1]), b0, x1);
                    x2 = Vector512.FusedMultiplyAdd(Vector512.Create(ap[r2]), b0, x2);
                    x3 = Vector512.FusedMultiplyAdd(Vector512.Create(ap[r3]), b0, x3);
                }
                x0.Store(c0 + j); x1.Store(c1 + j); x2.Store(c2 + j); x3.Store(c3 + j);
            }
        }
    }

    /// <summary>
    /// C[4×64] (+)= A[4×k]·B[k×64]: sixteen accumulators, so each FMA's result is not needed again for 16 FMAs — twice
    /// the four-cycle latency times two FMA ports — and four B loads plus four broadcasts feed 16 FMAs instead of 8.
    /// Measured on the dev VM (Zen 5, one core, the forward's 64×128×64 and 128×64×64 tiles): 209 GFLOP/s against 184
    /// for the 4×32 block.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block4x4(float* a0, nint r1, nint r2, nint r3, int aCol, float* b, int ldb, float* c0, int ldc, int k, bool accumulate)
    {
        const int W = 16;
        float* c1 = c0 + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
        Vector512<float> x00, x01, x02, x03, x10, x11, x12, x13, x20, x21, x22, x23, x30, x31, x32, x33;
        if (accumulate)
        {
            x00 = Vector512.Load(c0); x01 = Vector512.Load(c0 + W); x02 = Vector512.Load(c0 + 2 * W); x03 = Vector512.Load(c0 + 3 * W);
            x10 = Vector512.Load(c1); x11 = Vector512.Load(c1 + W); x12 = Vector512.Load(c1 + 2 * W); x13 = Vector512.Load(c1 + 3 * W);
            x20 = Vector512.Load(c2); x21 = Vector512.Load(c2 + W); x22 = Vector512.Load(c2 + 2 * W); x23 = Vector512.Load(c2 + 3 * W);
            x30 = Vector512.Load(c3); x31 = Vector512.Load(c3 + W); x32 = Vector512.Load(c3 + 2 * W); x33 = Vector512.Load(c3 + 3 * W);
        }
        else
        {
            x00 = x01 = x02 = x03 = x10 = x11 = x12 = x13 = x20 = x21 = x22 = x23 = x30 = x31 = x32 = x33 = Vector512<float>.Zero;
        }
        float* bp = b;
        float* ap = a0;
        for (int p = 0; p < k; p++, bp += ldb, ap += aCol)
        {
            var b0 = Vector512.Load(bp);
            var b1 = Vector512.Load(bp + W);
            var b2 = Vector512.Load(bp + 2 * W);
            var b3 = Vector512.Load(bp + 3 * W);
            var s = Vector512.Create(ap[0]);
            x00 = Vector512.FusedMultiplyAdd(s, b0, x00); x01 = Vector512.FusedMultiplyAdd(s, b1, x01);
            x02 = Vector512.FusedMultiplyAdd(s, b2, x02); x03 = Vector512.FusedMultiplyAdd(s, b3, x03);
            s = Vector512.Create(ap[r1]);
            x10 = Vector512.FusedMultiplyAdd(s, b0, x10); x11 = Vector512.FusedMultiplyAdd(s, b1, x11);
            x12 = Vector512.FusedMultiplyAdd(s, b2, x12); x13 = Vector512.FusedMultiplyAdd(s, b3, x13);
            s = Vector512.Create(ap[r2]);
            x20 = Vector512.FusedMultiplyAdd(s, b0, x20); x21 = Vector512.FusedMultiplyAdd(s, b1, x21);
            x22 = Vector512.FusedMultiplyAdd(s, b2, x22); x23 = Vector512.FusedMultiplyAdd(s, b3, x23);
            s = Vector512.Create(ap[r3]);
            x30 = Vector512.FusedMultiplyAdd(s, b0, x30); x31 = Vector512.FusedMultiplyAdd(s, b1, x31);
            x32 = Vector512.FusedMultiplyAdd(s, b2, x32); x33 = Vector512.FusedMultiplyAdd(s, b3, x33);
        }
        x00.Store(c0); x01.Store(c0 + W); x02.Store(c0 + 2 * W); x03.Store(c0 + 3 * W);
        x10.Store(c1); x11.Store(c1 + W); x12.Store(c1 + 2 * W); x13.Store(c1 + 3 * W);
        x20.Store(c2); x21.Store(c2 + W); x22.Store(c2 + 2 * W); x23.Store(c2 + 3 * W);
        x30.Store(c3); x31.Store(c3 + W); x32.Store(c3 + 2 * W); x33.Store(c3 + 3 * W);
    }

    /// <summary>Rounds up to a multiple of <paramref name="multiple"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;
}
