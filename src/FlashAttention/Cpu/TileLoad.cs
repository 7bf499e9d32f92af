using System.Runtime.CompilerServices;
namespace FlashAttention.Cpu;

/// <summary>
/// Gathers rows of one head from the [tokens, heads, D] layout into float tiles: converted from the storage type,
/// L2-normalised per group for cosine attention, scaled for queries, and laid out by rows or transposed.
/// Columns D..Dp of a tile are never written, so they stay zero from the scratch allocation.
/// </summary>
internal static unsafe class TileLoad
{
    /// <summary>Query rows i0..i0+rows of head h → qt[d·ld + r] (transposed), times the scale.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void QueryTransposed<T>(AttentionProblem p, T* q, int b, int h, int i0, int rows, float* qt, int ld, float* row)
        where T : unmanaged
    {
        int d = p.HeadDim;
        for (int r = 0; r < rows; r++)
        {
            QueryRow(p, q + p.QOffset(b, i0 + r, h), row);
            for (int x = 0; x < d; x++)
                qt[x * ld + r] = row[x];
        }
    }

    /// <summary>Query rows i0..i0+rows of head h → dst[r·rowStride + x], times the scale.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void QueryRows<T>(AttentionProblem p, T* q, int b, int h, int i0, int rows, float* dst, int rowStride)
        where T : unmanaged
    {
        for (int r = 0; r < rows; r++)
            QueryRow(p, q + p.QOffset(b, i0 + r, h), dst + (long)r * rowStride);
    }

    private static void QueryRow<T>(AttentionProblem p, T* src, float* dst) where T : unmanaged
    {
        int d = p.HeadDim;
        Elements.ToFloat(src, dst, d);
        if (p.Variant == AttentionVariant.Cosine && p.L2Normalize)
            NormalizeGroups(dst, d, p.CosineGroups);
        RowMath.Scale(dst, d, p.Scale);
    }

    /// <summary>Key or value rows j0..j0+cols of kv head hk → dst[c·dp + x]; keys are normalised for cosine attention.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Rows<T>(AttentionProblem p, T* src, int b, int hk, int j0, int cols, float* dst, int dp, bool normalize)
        where T : unmanaged
    {
        int d = p.HeadDim;
        bool l2 = normalize && p.Variant == AttentionVariant.Cosine && p.L2Normalize;
        for (int c = 0; c < cols; c++)
        {
            float* row = dst + c * dp;
            Elements.ToFloat(src + p.KOffset(b, j0 + c, hk), row, d);
            if (l2)
                NormalizeGroups(row, d, p.CosineGroups);
        }
    }

    /// <summary>The transpose of a row tile: tile[c·dp + x] → dst[x·ld + c].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Transpose(float* tile, int cols, int d, int dp, float* dst, int ld)
    {
        for (int c = 0; c < cols; c++)
        {
            float* row = tile + c * dp;
            for (int x = 0; x < d; x++)
                dst[x * ld + c] = row[x];
        }
    }

    /// <summary>In place x ← x / max(‖x_g‖, ε) for each of <paramref name="groups"/> equal groups (F.normalize's ε = 1e-12).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void NormalizeGroups(float* x, int d, int groups)
    {
        int g = d / groups;
        for (int start = 0; start < d; start += g)
        {
            float norm = MathF.Sqrt(RowMath.Dot(x + start, x + start, g));
            RowMath.Scale(x + start, g, 1f / MathF.Max(norm, NormEpsilon));
        }
    }

    public const float NormEpsilon = 1e-12f;
}
