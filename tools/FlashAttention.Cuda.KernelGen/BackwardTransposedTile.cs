namespace FlashAttention.Cuda.KernelGen;

/// <summary>
/// The variable names of a transposed score tile (rows: keys, columns: queries) in a generated dK/dV kernel: the
/// warp holds <c>mTiles</c> 16-key m-tiles of <c>nTiles</c> 8-query n-tiles each; lane (g, t) holds keys g and g + 8
/// of each m-tile (r = 0, 1) and queries 2t, 2t + 1 of each n-tile.
/// </summary>
/// <param name="S">Sᵀ, then Pᵀ, accumulator of (m-tile, n-tile).</param>
/// <param name="Dd">d(prepared logit)/d(score) of (m-tile, n-tile), the chain factor of softcap and score mods.</param>
/// <param name="Dp">dPᵀ, then dSᵀ, accumulator of (m-tile, n-tile).</param>
/// <param name="Key">The key index of (m-tile, r).</param>
/// <param name="Qlo">The first query key (m-tile, r) may see.</param>
/// <param name="Qhi">The last query key (m-tile, r) may see (−1: none).</param>
/// <param name="Bits">Dropout keep-bit word w of m-tile mt (element i of the m-tile: bit i mod 32 of word i / 32).</param>
internal sealed record TransposedTileNames(
    Func<int, int, string> S,
    Func<int, int, string> Dd,
    Func<int, int, string> Dp,
    Func<int, int, string> Key,
    Func<int, int, string> Qlo,
    Func<int, int, string> Qhi,
    Func<int, int, string> Bits)
{
    /// <summary>The names of the one-m-tile kernel (a warp owns 16 keys): s_nt, key_r, kbits_w, …</summary>
    public static TransposedTileNames SingleTile { get; } = new(
        (_, nt) => $"s_{nt}", (_, nt) => $"dd_{nt}", (_, nt) => $"dp_{nt}",
        (_, r) => $"key_{r}", (_, r) => $"qlo_{r}", (_, r) => $"qhi_{r}", (_, word) => $"kbits_{word}");

    /// <summary>The names of a kernel whose warp owns several m-tiles: s_mt_nt, key_mt_r, kbits_mt_w, …</summary>
    public static TransposedTileNames MultiTile { get; } = new(
        (mt, nt) => $"s_{mt}_{nt}", (mt, nt) => $"dd_{mt}_{nt}", (mt, nt) => $"dp_{mt}_{nt}",
        (mt, r) => $"key_{mt}_{r}", (mt, r) => $"qlo_{mt}_{r}", (mt, r) => $"qhi_{mt}_{r}", (mt, word) => $"kbits_{mt}_{word}");
}

/// <summary>
/// The element-wise part of the dK/dV kernels, shared by the one-dimensional warp layout (a warp owns 16 keys and the
/// whole query tile) and the two-dimensional one (a warp owns 32 keys and part of the query tile): score mode, ALiBi,
/// score mods, masks and dropout on Sᵀ, and dSᵀ from dPᵀ. Every emitter states the kernel variables it reads.
/// </summary>
internal static class BackwardTransposedTile
{
    private static readonly string[] Comp = ["X", "Y", "Z", "W"];

    /// <summary>
    /// Key row (m-tile <paramref name="mt"/>, r) at <paramref name="keyIndex"/> and the queries it may see, [qlo, qhi]
    /// from the window; a key past the end or hidden by the padding mask sees none (qhi = −1). Reads <c>shift</c>,
    /// <c>seqK</c>, <c>batch</c>.
    /// </summary>
    public static void EmitKeyRowBounds(CodeWriter w, TransposedTileNames n, int mt, int r, string keyIndex)
    {
        string key = n.Key(mt, r), qlo = n.Qlo(mt, r), qhi = n.Qhi(mt, r);
        w.Line($"int {key} = {keyIndex};");
        w.Line($"int {qlo} = p.WindowRight < 0 ? 0 : {key} - shift - p.WindowRight;");
        w.Line($"int {qhi} = p.WindowLeft < 0 ? int.MaxValue : {key} - shift + p.WindowLeft;");
        w.Line($"if ({key} >= seqK)");
        w.Line($"    {qhi} = -1;");
        w.Line($"else if (p.KeyMask != 0 && PtxOps.LoadByte(p.KeyMask + (ulong)((long)batch * p.KeyMaskStride + {key})) == 0)");
        w.Line($"    {qhi} = -1;");
    }

    /// <summary>
    /// Sᵀ → Pᵀ = 2^(logit − LSE₂), masked: the score mode (softcap's tanh) and its derivative into <c>Dd</c>, base-2
    /// logits, ALiBi, the caller's score mod and its derivative, then the causal/window/padding and user masks.
    /// Reads <c>col0</c> (the lane's first query), <c>lTile</c>, <c>prep</c>, <c>sl2</c>, <c>alibiSlope</c>,
    /// <c>shift</c>, <c>coverage</c>, <c>kBlock</c>; <paramref name="colBase"/> is the lane's query offset in the tile
    /// (for the LSE row), written as a prefix ("" or "qCol0 + ").
    /// </summary>
    public static void EmitProbabilities(CodeWriter w, TransposedTileNames n, int mTiles, int nTiles, string colBase)
    {
        for (int nt = 0; nt < nTiles; nt++)
        {
            w.Line($"float lse_{nt}_0 = PtxOps.LoadSharedFloat(lTile + (uint)(({colBase}{nt * 8} + 2 * t) * 4));");
            w.Line($"float lse_{nt}_1 = PtxOps.LoadSharedFloat(lTile + (uint)(({colBase}{nt * 8} + 2 * t) * 4 + 4));");
            for (int mt = 0; mt < mTiles; mt++)
            {
                w.Line($"Float4 {n.Dd(mt, nt)} = default;");
                for (int e = 0; e < 4; e++)
                {
                    string x = $"{n.S(mt, nt)}.{Comp[e]}";
                    string col = $"col0 + {nt * 8 + (e & 1)}";
                    string key = n.Key(mt, e / 2);
                    w.Line($"{x} = mode.Prepare({x}, prep);");
                    w.Line($"{n.Dd(mt, nt)}.{Comp[e]} = mode.Derivative({x});");
                    w.Line($"{x} *= sl2;");
                    w.Line($"if (features.Alibi) {x} -= alibiSlope * (float)AbsDistance({col} + shift, {key});");
                    w.Line($"if (score.Enabled && {col} < seqQ && {key} < seqK)");
                    w.Open();
                    w.Line($"var at = new CudaScorePosition(batch, head, {col}, {key}, seqQ, seqK);");
                    w.Line($"float y = {x} * 0.6931471805599453f;");
                    w.Line($"{n.Dd(mt, nt)}.{Comp[e]} *= score.Derivative(y, at);");
                    w.Line($"{x} = score.Apply(y, at) * 1.4426950408889634f;");
                    w.Close();
                    w.Line($"{x} = PtxOps.Exp2({x} - lse_{nt}_{e & 1});");
                }
            }
        }
        w.Line("bool userMask = mask.Enabled && coverage != BlockCoverage.Full;");
        w.Line("if (userMask || p.KeyMask != 0 || TileMath.TileNeedsMask(kBlock, BlockN, p.WindowLeft, p.WindowRight, qStart, qEnd, seqQ, seqK))");
        w.Open();
        for (int mt = 0; mt < mTiles; mt++)
            for (int nt = 0; nt < nTiles; nt++)
                for (int e = 0; e < 4; e++)
                {
                    string col = $"col0 + {nt * 8 + (e & 1)}";
                    string s = $"{n.S(mt, nt)}.{Comp[e]}";
                    w.Line($"{s} = {col} >= {n.Qlo(mt, e / 2)} && {col} <= {n.Qhi(mt, e / 2)} && (!userMask || ({col} < seqQ && mask.IsVisible(new CudaScorePosition(batch, head, {col}, {n.Key(mt, e / 2)}, seqQ, seqK)))) ? {s} : 0f;");
                }
        w.Close();
    }

    /// <summary>
    /// Declares the dropout keep-bit words of every m-tile and fills them under <c>features.Dropout</c> (see
    /// <see cref="DropoutCodegen.EmitTransposedTileBits"/>). Reads <c>col0</c>, <c>g</c>, <c>dropHead</c>.
    /// </summary>
    public static void EmitDropoutBits(CodeWriter w, TransposedTileNames n, int mTiles, int nTiles)
    {
        int keepWords = (nTiles * 4 + 31) / 32;
        for (int mt = 0; mt < mTiles; mt++)
            for (int kw = 0; kw < keepWords; kw++)
                w.Line($"uint {n.Bits(mt, kw)} = 0u;");
        for (int mt = 0; mt < mTiles; mt++)
            DropoutCodegen.EmitTransposedTileBits(w, nTiles, n.Key(mt, 0), n.Key(mt, 1), "col0", word => n.Bits(mt, word));
    }

    /// <summary>Element e of tile (mt, nt) with its dropout keep factor applied (the dropped entries become 0).</summary>
    public static string Kept(TransposedTileNames n, int mt, int nt, int e) =>
        $"(features.Dropout ? {n.S(mt, nt)}.{Comp[e]} * KeepFactor({n.Bits(mt, (nt * 4 + e) / 32)}, {(nt * 4 + e) % 32}) : {n.S(mt, nt)}.{Comp[e]})";

    /// <summary>
    /// dPᵀ → dSᵀ = Pᵀ∘(dPᵀ∘Z − D)·d(prepared)/d(score), Z the dropout factor (keep/(1 − p)). Reads <c>dTile</c> (the D row
    /// of the query tile), <c>dropScale</c>, <c>chain</c>; <paramref name="colBase"/> as in <see cref="EmitProbabilities"/>.
    /// </summary>
    public static void EmitScoreGradient(CodeWriter w, TransposedTileNames n, int mTiles, int nTiles, string colBase)
    {
        for (int nt = 0; nt < nTiles; nt++)
        {
            w.Line($"float rd_{nt}_0 = PtxOps.LoadSharedFloat(dTile + (uint)(({colBase}{nt * 8} + 2 * t) * 4));");
            w.Line($"float rd_{nt}_1 = PtxOps.LoadSharedFloat(dTile + (uint)(({colBase}{nt * 8} + 2 * t) * 4 + 4));");
            for (int mt = 0; mt < mTiles; mt++)
                for (int e = 0; e < 4; e++)
                {
                    string x = Comp[e];
                    string dp = n.Dp(mt, nt);
                    w.Line($"{dp}.{x} = {n.S(mt, nt)}.{x} * ((features.Dropout ? {dp}.{x} * (KeepFactor({n.Bits(mt, (nt * 4 + e) / 32)}, {(nt * 4 + e) % 32}) * dropScale) : {dp}.{x}) - rd_{nt}_{e & 1});");
                    w.Line($"if (chain) {dp}.{x} *= {n.Dd(mt, nt)}.{x};");
                }
        }
    }
}
