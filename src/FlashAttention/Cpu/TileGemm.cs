using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace FlashAttention.Cpu;

/// <summary>
/// The one matrix product every CPU tile needs: C[m×n] (+)= A[m×k]·B[k×n]. B and C are row-major with leading
/// dimensions; A(i, p) sits at a[i·aRow + p·aCol], so a transposed operand (Pᵀ·dO, dSᵀ·Q, Sᵀ as P) costs nothing.
/// Register-blocked 4 rows × 2 vectors: each step broadcasts four A values and loads two B vectors for eight FMAs.
/// Requires m % 4 == 0 and n % <see cref="Lanes"/> == 0 (callers pad their tiles).
/// Hot methods here and in the other tile files are AggressiveOptimization: compiled fully optimised on first call, so
/// early calls do not run tier-0 or PGO-instrumented code (measured on the 16-core Xeon: without it the forward reached
/// its steady speed only after several calls).
/// </summary>
internal static unsafe class TileGemm
{
    /// <summary>Floats per vector of the widest accelerated width (16 with AVX-512, else 8).</summary>
    public static readonly int Lanes = Vector512.IsHardwareAccelerated ? 16 : 8;

    // EXPERIMENT (temporary): kernel variants selectable for A/B timing on the AVX-512 host.
    internal static readonly bool EightRowKernel = Environment.GetEnvironmentVariable("FA_EIGHT") != "0";
    internal static readonly bool Softmax512 = Environment.GetEnvironmentVariable("FA_SM512") != "0";

    public static void Multiply(float* a, int aRow, int aCol, float* b, int ldb, float* c, int ldc, int m, int n, int k, bool accumulate)
    {
        if (Vector512.IsHardwareAccelerated)
            Multiply512(a, aRow, aCol, b, ldb, c, ldc, m, n, k, accumulate);
        else
            Multiply256(a, aRow, aCol, b, ldb, c, ldc, m, n, k, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Multiply256(float* a, int aRow, int aCol, float* b, int ldb, float* c, int ldc, int m, int n, int k, bool accumulate)
    {
        const int W = 8;
        // Column panels outermost (see Multiply512): a 16-column panel of B stays in L1 across the row blocks.
        int jp = 0;
        for (; jp < n; jp += 2 * W)
        {
            int width = Math.Min(2 * W, n - jp);
            for (int i = 0; i < m; i += 4)
                FourRows256(a + (nint)i * aRow, aRow, aCol, b + jp, ldb, c + i * ldc + jp, ldc, width, k, accumulate);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FourRows256(float* a0, int aRow, int aCol, float* b, int ldb, float* c0, int ldc, int n, int k, bool accumulate)
    {
        const int W = 8;
        {
            nint r1 = aRow, r2 = 2 * (nint)aRow, r3 = 3 * (nint)aRow;
            float* c1 = c0 + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
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
        // Column panels outermost: a 32-column panel of B (k × 32 floats) stays in L1 while every row block of A
        // passes over it; row-major order would stream all of B from L2 once per row block.
        int j = 0;
        for (; j + 32 <= n; j += 32)
        {
            int i = 0;
            // AVX-512 has 32 registers: eight rows × two vectors (16 accumulators) halve the B loads per FMA.
            for (; EightRowKernel && i + 8 <= m; i += 8)
                EightRows512(a + (nint)i * aRow, aRow, aCol, b + j, ldb, c + i * ldc + j, ldc, 32, k, accumulate);
            for (; i < m; i += 4)
                FourRows512(a + (nint)i * aRow, aRow, aCol, b + j, ldb, c + i * ldc + j, ldc, 32, k, accumulate);
        }
        if (j < n)
            for (int i = 0; i < m; i += 4)
                FourRows512(a + (nint)i * aRow, aRow, aCol, b + j, ldb, c + i * ldc + j, ldc, n - j, k, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FourRows512(float* a0, int aRow, int aCol, float* b, int ldb, float* c0, int ldc, int n, int k, bool accumulate)
    {
        const int W = 16;
        {
            nint r1 = aRow, r2 = 2 * (nint)aRow, r3 = 3 * (nint)aRow;
            float* c1 = c0 + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
            int j = 0;
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


    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void EightRows512(float* a, int aRow, int aCol, float* b, int ldb, float* c, int ldc, int n, int k, bool accumulate)
    {
        const int W = 16;
        nint r1 = aRow, r2 = 2 * (nint)aRow, r3 = 3 * (nint)aRow, r4 = 4 * (nint)aRow, r5 = 5 * (nint)aRow, r6 = 6 * (nint)aRow, r7 = 7 * (nint)aRow;
        int j = 0;
        for (; j + 2 * W <= n; j += 2 * W)
        {
            float* cj = c + j;
            Vector512<float> x00, x01, x10, x11, x20, x21, x30, x31, x40, x41, x50, x51, x60, x61, x70, x71;
            if (accumulate)
            {
                x00 = Vector512.Load(cj); x01 = Vector512.Load(cj + W); cj += ldc;
                x10 = Vector512.Load(cj); x11 = Vector512.Load(cj + W); cj += ldc;
                x20 = Vector512.Load(cj); x21 = Vector512.Load(cj + W); cj += ldc;
                x30 = Vector512.Load(cj); x31 = Vector512.Load(cj + W); cj += ldc;
                x40 = Vector512.Load(cj); x41 = Vector512.Load(cj + W); cj += ldc;
                x50 = Vector512.Load(cj); x51 = Vector512.Load(cj + W); cj += ldc;
                x60 = Vector512.Load(cj); x61 = Vector512.Load(cj + W); cj += ldc;
                x70 = Vector512.Load(cj); x71 = Vector512.Load(cj + W);
            }
            else
            {
                x00 = x01 = x10 = x11 = x20 = x21 = x30 = x31 = Vector512<float>.Zero;
                x40 = x41 = x50 = x51 = x60 = x61 = x70 = x71 = Vector512<float>.Zero;
            }
            float* bp = b + j;
            float* ap = a;
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
                s = Vector512.Create(ap[r4]);
                x40 = Vector512.FusedMultiplyAdd(s, b0, x40); x41 = Vector512.FusedMultiplyAdd(s, b1, x41);
                s = Vector512.Create(ap[r5]);
                x50 = Vector512.FusedMultiplyAdd(s, b0, x50); x51 = Vector512.FusedMultiplyAdd(s, b1, x51);
                s = Vector512.Create(ap[r6]);
                x60 = Vector512.FusedMultiplyAdd(s, b0, x60); x61 = Vector512.FusedMultiplyAdd(s, b1, x61);
                s = Vector512.Create(ap[r7]);
                x70 = Vector512.FusedMultiplyAdd(s, b0, x70); x71 = Vector512.FusedMultiplyAdd(s, b1, x71);
            }
            cj = c + j;
            x00.Store(cj); x01.Store(cj + W); cj += ldc;
            x10.Store(cj); x11.Store(cj + W); cj += ldc;
            x20.Store(cj); x21.Store(cj + W); cj += ldc;
            x30.Store(cj); x31.Store(cj + W); cj += ldc;
            x40.Store(cj); x41.Store(cj + W); cj += ldc;
            x50.Store(cj); x51.Store(cj + W); cj += ldc;
            x60.Store(cj); x61.Store(cj + W); cj += ldc;
            x70.Store(cj); x71.Store(cj + W);
        }
    }


    /// <summary>Rounds up to a multiple of <paramref name="multiple"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;
}
