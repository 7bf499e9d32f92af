namespace FlashAttention.Cuda.KernelGen;

/// <summary>
/// Dropout keep bits for the generated kernels, with each Philox4x32-10 call made by one lane only.
/// </summary>
/// <remarks>
/// One Philox call yields the keep bits of four neighbouring keys of one query row (counter (key/4, query, b·H + h,
/// low32(offset)); see <c>DropoutBits</c>). In an mma.sync accumulator a lane holds rows g and g + 8 and two neighbouring
/// columns of each 8-column tile, so several lanes need the bits of the same call. Computing it in each of them (as the
/// first GPU kernels did) repeats the 10 rounds 2× (query-row accumulators) or 4× (the transposed dK/dV tile); here each
/// lane makes a different call and the lanes exchange the results with warp shuffles. The bits are the same as before,
/// bit for bit; only who computes them changes. The kernels call these only under <c>features.Dropout</c>, which is
/// warp-uniform, so every lane reaches the shuffles.
/// </remarks>
internal static class DropoutCodegen
{
    /// <summary>
    /// Accumulators with query rows (forward S, dQ kernel's dP, returned softmax): lane t (t = lane mod 4) holds keys
    /// 2t, 2t + 1 of every 8-key tile for rows h0 = <paramref name="rowOf"/>(mt) and h1 = h0 + 8. Lanes t and t ^ 1 share a
    /// key quad, so the even lane draws row h0, the odd lane row h1, for every tile, and one shuffle swaps the draws.
    /// Declares <c>dh0_{mt}_{word}</c> and <c>dh1_{mt}_{word}</c> (read them with <see cref="RowPairBits"/>); outside a
    /// dropout instantiation they stay all ones (everything kept). Needs <c>t</c>, <c>n</c>, <c>BlockN</c>,
    /// <c>dropHead</c> and <c>p</c> (Drop* fields) in the kernel.
    /// </summary>
    public static void EmitRowPairBits(CodeWriter w, int mTiles, int nTiles, Func<int, string> rowOf)
    {
        int words = (nTiles + 7) / 8;
        for (int mt = 0; mt < mTiles; mt++)
            for (int word = 0; word < words; word++)
                w.Line($"uint dh0_{mt}_{word} = 0xFFFFFFFFu, dh1_{mt}_{word} = 0xFFFFFFFFu;");
        w.Line("if (features.Dropout)");
        w.Open();
        w.Line("// Lanes t and t ^ 1 need the same calls (key quad (n·BlockN + 8j + 2t)/4, rows h0 and h1): the even lane draws row");
        w.Line("// h0, the odd lane row h1; tile j's four bits go to nibble j of a word, and one shuffle gives each lane the other row.");
        w.Line("uint dc0 = (uint)((n * BlockN) >> 2) + (uint)(t >> 1);");
        w.Line("uint dodd = (uint)(t & 1);");
        for (int mt = 0; mt < mTiles; mt++)
        {
            w.Line($"uint drow_{mt} = (uint)({rowOf(mt)}) + 8u * dodd;");
            for (int word = 0; word < words; word++)
            {
                string own = $"dropOwn_{mt}_{word}", other = $"dropPeer_{mt}_{word}";
                w.Line($"uint {own} = 0u;");
                for (int j = 8 * word; j < Math.Min(nTiles, 8 * word + 8); j++)
                    w.Line($"{own} |= DropoutBits.KeepQuad<PtxMulHigh>(dc0 + {2 * j}u, drow_{mt}, dropHead, p.DropOffsetLow, p.DropSeedLow, p.DropKeyHigh, p.KeepThreshold) << {4 * (j - 8 * word)};");
                w.Line($"uint {other} = PtxOps.ShuffleXorBits({own}, 1);");
                w.Line("// Even lane: its keys are words 0-1 of each quad; odd lane: words 2-3.");
                w.Line($"dh0_{mt}_{word} = dodd != 0 ? {other} >> 2 : {own};");
                w.Line($"dh1_{mt}_{word} = dodd != 0 ? {own} >> 2 : {other};");
            }
        }
        w.Close();
    }

    /// <summary>The keep bits of tile <paramref name="j"/>, row half <paramref name="h"/>: bit 0 key 2t, bit 1 key 2t + 1.</summary>
    public static string RowPairBits(int mt, int h, int j) => $"((dh{h}_{mt}_{j / 8} >> {4 * (j % 8)}) & 3u)";

    /// <summary>
    /// The transposed dK/dV tile Sᵀ = K·Qᵀ: lane (g, t) holds keys <c>key_0</c> = … + g and <c>key_1</c> = key_0 + 8 and
    /// queries <c>col0</c> + 8·nt + {0, 1}; element e of tile nt (X, Y, Z, W) is key_{e/2}, query col0 + 8·nt + (e &amp; 1).
    /// The four lanes g = 4a … 4a + 3 (same t) need the same four calls per tile, each using bit g mod 4. So lane j = g mod 4
    /// draws element e = j of every tile (nibble nt of a word), and a 4×4 bit transpose over those four lanes (two
    /// shuffles, lane ^ 8 then lane ^ 4) leaves in each lane bit 4·nt + e = keep of its own element — the layout of
    /// <c>kbits_{word}</c> (element i: bit i mod 32 of word i / 32), which this fills. A warp that owns several 16-key
    /// m-tiles calls this once per m-tile with that tile's key rows (<paramref name="key0"/>, <paramref name="key1"/>) and
    /// bit words (<paramref name="bitsName"/>).
    /// </summary>
    public static void EmitTransposedTileBits(CodeWriter w, int nTiles, string key0 = "key_0", string key1 = "key_1", string col0 = "col0", Func<int, string>? bitsName = null)
    {
        bitsName ??= word => $"kbits_{word}";
        w.Line("if (features.Dropout)");
        w.Open();
        w.Line("int dj = g & 3;");
        w.Line($"uint dkeyQuad = (uint)((dj & 2) != 0 ? {key1} : {key0}) >> 2;");
        w.Line($"uint dquery = (uint)({col0} + (dj & 1));");
        w.Line("uint dkeep2 = (dj & 2) != 0 ? 0xCCCCCCCCu : 0x33333333u;");
        w.Line("uint dkeep1 = (dj & 1) != 0 ? 0xAAAAAAAAu : 0x55555555u;");
        int words = (nTiles + 7) / 8;
        for (int word = 0; word < words; word++)
        {
            string k = bitsName(word);
            for (int nt = 8 * word; nt < Math.Min(nTiles, 8 * word + 8); nt++)
                w.Line($"{k} |= DropoutBits.KeepQuad<PtxMulHigh>(dkeyQuad, dquery + {8 * nt}u, dropHead, p.DropOffsetLow, p.DropSeedLow, p.DropKeyHigh, p.KeepThreshold) << {4 * (nt - 8 * word)};");
            w.Line("// Transpose each nibble's 4×4 bit block over lanes j = 0..3: swap the off-diagonal 2×2 blocks with lane j ^ 2, then");
            w.Line("// the off-diagonal bits of each 2×2 block with lane j ^ 1.");
            w.Line($"uint dx2_{word} = PtxOps.ShuffleXorBits({k}, 8);");
            w.Line($"{k} = ({k} & dkeep2) | (((dj & 2) != 0 ? dx2_{word} >> 2 : dx2_{word} << 2) & ~dkeep2);");
            w.Line($"uint dx1_{word} = PtxOps.ShuffleXorBits({k}, 4);");
            w.Line($"{k} = ({k} & dkeep1) | (((dj & 1) != 0 ? dx1_{word} >> 1 : dx1_{word} << 1) & ~dkeep1);");
        }
        w.Close();
    }
}
