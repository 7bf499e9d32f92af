namespace FlashAttention.Cuda.KernelGen;

/// <summary>
/// One tile configuration of the dK/dV kernel with a two-dimensional warp layout (FlashAttention-2's): the block owns
/// <see cref="BlockN"/> keys and its warps form a <see cref="WarpsN"/> × <see cref="WarpsM"/> grid. Phase 1: warp (i, j)
/// computes Sᵀ and dPᵀ for its <see cref="KeysPerWarp"/> keys × <see cref="QueriesPerWarp"/> queries and writes Pᵀ and dSᵀ
/// to shared memory. Phase 2: warp (i, j) accumulates dV and dK for the same keys × <see cref="DimsPerWarp"/> head dims,
/// reading Pᵀ/dSᵀ rows as A fragments. Each fragment read from shared memory then serves more mma than in the
/// one-dimensional layout (<see cref="BackwardKvConfig"/>), where a warp owns 16 keys and reads the whole Q and dO tiles
/// twice per step.
/// </summary>
/// <param name="HeadDim">The head dim the kernel computes with (a multiple of 32); smaller ones run on it zero-filled.</param>
/// <param name="WarpsN">Warps along the keys.</param>
/// <param name="WarpsM">Warps along the queries (phase 1) and along the head dim (phase 2).</param>
/// <param name="BlockM">Queries per tile (64 or 128).</param>
/// <param name="KeyTiles">16-key m-tiles per warp.</param>
public sealed record BackwardKvGridConfig(int HeadDim, int WarpsN, int WarpsM, int BlockM, int KeyTiles = 2)
{
    /// <summary>Warps per block.</summary>
    public int Warps => WarpsN * WarpsM;

    /// <summary>Threads per block.</summary>
    public int Threads => 32 * Warps;

    /// <summary>Keys a warp owns in both phases.</summary>
    public int KeysPerWarp => 16 * KeyTiles;

    /// <summary>Keys per block.</summary>
    public int BlockN => KeysPerWarp * WarpsN;

    /// <summary>Queries of the tile a warp scores in phase 1.</summary>
    public int QueriesPerWarp => BlockM / WarpsM;

    /// <summary>Head dims of dK and dV a warp accumulates in phase 2.</summary>
    public int DimsPerWarp => HeadDim / WarpsM;

    /// <summary>Row length of the shared-memory tiles.</summary>
    public int LayoutDim => KernelLayout.LayoutDim(HeadDim);

    /// <summary>K and V, two stages of Q, dO, LSE and D, and the Pᵀ and dSᵀ tiles.</summary>
    public int SharedBytes => 2 * BlockN * LayoutDim * 2 + 2 * (2 * BlockM * LayoutDim * 2 + 2 * BlockM * 4) + 2 * BlockN * BlockM * 2;

    /// <summary>The kernel's method name.</summary>
    public string Name => $"DKV_D{HeadDim}_N{BlockN}_M{BlockM}_W{Warps}_G{WarpsN}x{WarpsM}";
}

public static partial class BackwardKernelGenerator
{
    /// <summary>The dK/dV configurations with a two-dimensional warp layout.</summary>
    public static IReadOnlyList<BackwardKvGridConfig> KvGridConfigs { get; } =
    [
        new(128, 2, 2, 64),
        new(128, 4, 2, 64),
        new(96, 2, 2, 64),
        // 16 keys per warp: half the dK/dV accumulators, for the feature kernels' register budget.
        new(128, 2, 2, 64, KeyTiles: 1),
    ];

    private static void KvGridKernel(CodeWriter w, BackwardKvGridConfig c, int minDim)
    {
        int d = c.HeadDim, layout = c.LayoutDim, rb = layout * 2, kSteps = d / 16;
        int mTiles = c.KeyTiles, nTiles = c.QueriesPerWarp / 8, dTiles = c.DimsPerWarp / 8, qSteps = c.BlockM / 16;
        int sRowBytes = c.BlockM * 2;
        if (d % 32 != 0 || d > 128 || (c.BlockM != 64 && c.BlockM != 128) || c.QueriesPerWarp % 8 != 0 || c.QueriesPerWarp * c.WarpsM != c.BlockM
            || c.DimsPerWarp % 16 != 0 || c.DimsPerWarp * c.WarpsM != d || c.KeyTiles < 1)
            throw new ArgumentException($"Unsupported configuration {c}.");
        int chunksLog2 = (int)Math.Log2(layout / 8);
        var names = TransposedTileNames.MultiTile;

        w.Line("/// <summary>");
        w.Line($"/// Backward (dK and dV), head dim ≤ {d}, two-dimensional warp layout: a block of {c.Threads} threads owns {c.BlockN} keys of one");
        w.Line($"/// key/value head and sweeps query tiles of {c.BlockM} rows of every head in its group (double-buffered cp.async). Its warps");
        w.Line($"/// form a {c.WarpsN} × {c.WarpsM} grid: phase 1, warp (i, j) computes Sᵀ, Pᵀ, dPᵀ and dSᵀ for keys {c.KeysPerWarp}·i … × queries");
        w.Line($"/// {c.QueriesPerWarp}·j … and writes Pᵀ and dSᵀ to shared memory; phase 2, after a barrier, it accumulates dV += Pᵀ·dO and");
        w.Line($"/// dK += dSᵀ·Q for the same keys × head dims {c.DimsPerWarp}·j …, in registers. dQ is left to the dQ kernel.");
        w.Line("/// </summary>");
        w.Line($"public static void {c.Name}<TKind, TMode, TFeatures, TScore, TMask, TLayout>(BackwardParams p, ModPair<TScore, TMask> mods) " +
               "where TKind : struct, IElementKind where TMode : struct, IScoreMode where TFeatures : struct, IFeatures " +
               "where TScore : struct, ICudaScoreMod where TMask : struct, ICudaMaskMod where TLayout : struct, ISequenceLayout");
        w.Open();
        w.Line($"const int RowBytes = {rb}, BlockM = {c.BlockM}, BlockN = {c.BlockN}, SRowBytes = {sRowBytes};");
        w.Line("const int KvBytes = BlockN * RowBytes, QBytes = BlockM * RowBytes, VecBytes = BlockM * 4, SBytes = BlockN * SRowBytes;");
        w.Line("var kind = default(TKind);");
        w.Line("var mode = default(TMode);");
        w.Line("var features = default(TFeatures);");
        w.Line("var score = mods.Score;");
        w.Line("var mask = mods.Mask;");
        w.Line("var layout = default(TLayout);");
        w.Line("int tid = Group.IdxX;");
        w.Line("int lane = tid & 31;");
        w.Line("int warp = tid >> 5;");
        w.Line($"int warpN = warp / {c.WarpsM};");
        w.Line($"int warpM = warp % {c.WarpsM};");
        w.Line("int g = lane >> 2;");
        w.Line("int t = lane & 3;");
        w.Line("int swz = lane & 7;");
        w.Line("int half = lane >> 4;");
        w.Line("// Earliest (under a causal mask the longest) key blocks first, heads grouped to share L2 (TileMath.GroupedBlock).");
        w.Line("int kBlock = TileMath.GroupedBlock(Grid.IdxX, p.HeadGroupShift);");
        w.Line("int kvHead = TileMath.GroupedHead(Grid.IdxX, Grid.IdxY, p.HeadGroupShift);");
        w.Line("int batch = Grid.IdxZ;");
        ForwardKernelGenerator.EmitSequence(w, "layout.Packed");
        w.Line("int kStart = kBlock * BlockN;");
        w.Line("if (kStart >= seqK)");
        w.Line("    return;");
        w.Line("int kRows = seqK - kStart < BlockN ? seqK - kStart : BlockN;");
        w.Line("int kEnd = kStart + kRows;");
        w.Line("int mFirst = TileMath.QueryBlockFirst(p.WindowLeft, p.WindowRight, kStart, kEnd, seqQ, seqK, BlockM);");
        w.Line("int mCount = TileMath.QueryBlockEnd(p.WindowLeft, p.WindowRight, kStart, kEnd, seqQ, seqK, BlockM) - mFirst;");
        w.Line("int tiles = mCount * p.GroupSize;");
        w.Line("uint sK = PtxOps.SharedBase();");
        w.Line("uint sV = sK + KvBytes;");
        w.Line("uint sQ = sV + KvBytes;");
        w.Line("uint sDO = sQ + 2 * QBytes;");
        w.Line("uint sL = sDO + 2 * QBytes;");
        w.Line("uint sD = sL + 2 * VecBytes;");
        w.Line("uint sP = sD + 2 * VecBytes;");
        w.Line("uint sDS = sP + SBytes;");
        w.Line("int headBytes = p.HeadDim * 2;");
        w.Line("long qRowStride = (long)p.Heads * headBytes;");
        w.Line("long kRowStride = (long)p.KvHeads * headBytes;");
        w.Line("long kOffset = (kTok0 + kStart) * kRowStride + (long)kvHead * headBytes;");
        w.Line($"const int RowStep = {c.Threads / (layout / 8)};");
        w.Line($"int ldRow = tid >> {chunksLog2};");
        w.Line($"int ldChunk = tid & {layout / 8 - 1};");
        w.Line("bool chunkOk = ldChunk < (p.HeadDim >> 3);");
        w.Line("uint ldShared = (uint)TileMath.SwizzledOffset(ldRow, ldChunk, RowBytes);");
        w.Line("long ldQ = ldRow * qRowStride + (ldChunk << 4);");
        w.Line("long ldKv = ldRow * kRowStride + (ldChunk << 4);");
        w.Line();
        w.Line("// Prologue: this block's K and V (one cp.async group), then the first query tile (the next group).");
        w.Open();
        KernelSnippets.Load(w, c.Threads, layout, "sK", "p.K + (ulong)kOffset", "ldKv", "kRowStride", c.BlockN, "kRows");
        w.Close();
        w.Open();
        KernelSnippets.Load(w, c.Threads, layout, "sV", "p.V + (ulong)kOffset", "ldKv", "kRowStride", c.BlockN, "kRows");
        w.Close();
        w.Line("PtxOps.CommitGroup();");
        w.Line("if (tiles > 0)");
        w.Open();
        EmitQueryTileLoad(w, c.Threads, layout, c.BlockM, "0", "0u");
        w.Close();
        w.Line("PtxOps.CommitGroup();");
        w.Line();
        w.Line($"// The warp's keys (rows {c.KeysPerWarp}·warpN … of the block; lane rows g and g + 8 of each m-tile), its queries in phase 1");
        w.Line("// and its head dims in phase 2. Per key row: the queries it may see, [qlo, qhi]; a key past the end or hidden by the");
        w.Line("// padding mask sees none.");
        w.Line($"int keyRow0 = warpN * {c.KeysPerWarp};");
        w.Line($"int qCol0 = warpM * {c.QueriesPerWarp};");
        w.Line($"int dimCol0 = warpM * {c.DimsPerWarp};");
        w.Line("int shift = seqK - seqQ;");
        for (int mt = 0; mt < mTiles; mt++)
            for (int r = 0; r < 2; r++)
                BackwardTransposedTile.EmitKeyRowBounds(w, names, mt, r, $"kStart + keyRow0 + g + {16 * mt + 8 * r}");
        for (int mt = 0; mt < mTiles; mt++)
            for (int dt = 0; dt < dTiles; dt++)
                w.Line($"Float4 dk_{mt}_{dt} = default, dv_{mt}_{dt} = default;");
        w.Line("uint kFrag = sK + (uint)((keyRow0 + (lane & 15)) * RowBytes);");
        w.Line("uint vFrag = sV + (uint)((keyRow0 + (lane & 15)) * RowBytes);");
        w.Line("uint pFrag = sP + (uint)((keyRow0 + (lane & 15)) * SRowBytes);");
        w.Line("uint dsFrag = sDS + (uint)((keyRow0 + (lane & 15)) * SRowBytes);");
        w.Line("// Pᵀ/dSᵀ in shared memory: row = key, 16-byte chunk = 8 queries, chunk index XOR (row mod 8) = g.");
        w.Line("uint pStore = sP + (uint)((keyRow0 + g) * SRowBytes + 4 * t);");
        w.Line("uint dsStore = sDS + (uint)((keyRow0 + g) * SRowBytes + 4 * t);");
        w.Line("int qChunk0 = qCol0 >> 3;");
        w.Line("int dimChunk0 = dimCol0 >> 3;");
        w.Line("int bRow = (lane & 7) * RowBytes + qCol0 * RowBytes;");
        w.Line("int quarter = lane >> 3;");
        w.Line("int tRow = (lane & 15) * RowBytes;");
        w.Line("float dropScale = p.DropScale;");
        w.Line();
        w.Line("for (int u = 0; u < tiles; u++)");
        w.Open();
        w.Line("uint stage = (uint)(u & 1);");
        w.Line("PtxOps.WaitGroup0();");
        w.Line("Group.Barrier();");
        w.Line("if (u + 1 < tiles)");
        w.Open();
        EmitQueryTileLoad(w, c.Threads, layout, c.BlockM, "u + 1", "stage ^ 1u");
        w.Close();
        w.Line("PtxOps.CommitGroup();");
        w.Line("int head = kvHead * p.GroupSize + u / mCount;");
        w.Line("int qStart = (mFirst + u % mCount) * BlockM;");
        w.Line("int qEnd = qStart + BlockM < seqQ ? qStart + BlockM : seqQ;");
        w.Line("// The caller's mask may hide the whole tile (block-uniform, so every warp skips the barrier below together).");
        w.Line("BlockCoverage coverage = mask.Enabled ? mask.Classify(new TileBounds(batch, head, qStart, qEnd, kStart, kEnd, seqQ, seqK)) : BlockCoverage.Full;");
        w.Line("if (mask.Enabled && coverage == BlockCoverage.Empty)");
        w.Line("    continue;");
        w.Line("uint qTile = sQ + stage * QBytes;");
        w.Line("uint doTile = sDO + stage * QBytes;");
        w.Line("uint lTile = sL + stage * VecBytes;");
        w.Line("uint dTile = sD + stage * VecBytes;");
        w.Line();
        w.Line("// Phase 1. Sᵀ = K·Qᵀ (the warp's keys × its queries).");
        EmitGridProduct(w, c, "s", "kFrag", "qTile");
        w.Line();
        w.Line("// Score mode, base-2 logits, ALiBi, score mods, Pᵀ = 2^(logit − LSE₂), masks.");
        w.Line("float prep = p.PrepScale;");
        w.Line("float sl2 = p.ScaleLog2;");
        w.Line("bool chain = mode.HasDerivative || score.Enabled;");
        w.Line("float alibiSlope = features.Alibi ? PtxOps.LoadFloat(p.Alibi + (ulong)(((long)batch * p.Heads + head) * 4)) : 0f;");
        w.Line("int col0 = qStart + qCol0 + 2 * t;");
        BackwardTransposedTile.EmitProbabilities(w, names, mTiles, nTiles, "qCol0 + ");
        w.Line();
        w.Line("// Dropout keep bits (the CPU's Philox bits), one bit per element until dSᵀ needs them again.");
        w.Line("uint dropHead = (uint)(batch * p.Heads + head);");
        BackwardTransposedTile.EmitDropoutBits(w, names, mTiles, nTiles);
        w.Line("// Pᵀ with the dropped entries zeroed (1/(1 − p) is applied once, at the end) to shared memory for dV.");
        EmitTileStore(w, mTiles, nTiles, "pStore", (mt, nt, e) => BackwardTransposedTile.Kept(names, mt, nt, e));
        w.Line();
        w.Line("// dPᵀ = V·dOᵀ, then dSᵀ = Pᵀ∘(dPᵀ∘Z − D)·d(prepared)/d(score) to shared memory for dK.");
        EmitGridProduct(w, c, "dp", "vFrag", "doTile");
        BackwardTransposedTile.EmitScoreGradient(w, names, mTiles, nTiles, "qCol0 + ");
        EmitTileStore(w, mTiles, nTiles, "dsStore", (mt, nt, e) => $"{names.Dp(mt, nt)}.{Comp[e]}");
        w.Line("Group.Barrier();");
        w.Line();
        w.Line("// Phase 2. dV += Pᵀ·dO and dK += dSᵀ·Q over the whole query tile (the warp's keys × its head dims).");
        EmitGridAccumulate(w, c, "dv", "pFrag", "doTile");
        EmitGridAccumulate(w, c, "dk", "dsFrag", "qTile");
        w.Close();
        w.Line();
        w.Line("// Epilogue: dK = scale·Σ dSᵀ·Q, dV = Σ Pᵀ·dO/(1 − p), stored for the keys and head dims that exist.");
        w.Line("PtxOps.WaitGroup0();");
        w.Line("float kScale = p.Scale;");
        for (int mt = 0; mt < mTiles; mt++)
            for (int r = 0; r < 2; r++)
            {
                string key = names.Key(mt, r);
                w.Line($"if ({key} < seqK)");
                w.Open();
                w.Line($"long rowElement = (kTok0 + {key}) * p.KvHeads * p.HeadDim + (long)kvHead * p.HeadDim + dimCol0 + 2 * t;");
                foreach (var (name, acc, factor) in new[] { ("DK", "dk", "kScale"), ("DV", "dv", "dropScale") })
                {
                    w.Line($"if (p.{name[0]}{char.ToLowerInvariant(name[1])}Float != 0)");
                    w.Open();
                    for (int dt = 0; dt < dTiles; dt++)
                    {
                        string a = $"{acc}_{mt}_{dt}.{Comp[2 * r]}", b = $"{acc}_{mt}_{dt}.{Comp[2 * r + 1]}";
                        w.Line($"{DimGuard(c, dt, minDim)}{{ PtxOps.StoreFloat(p.{name} + (ulong)((rowElement + {dt * 8}) * 4), {a} * {factor}); PtxOps.StoreFloat(p.{name} + (ulong)((rowElement + {dt * 8}) * 4 + 4), {b} * {factor}); }}");
                    }
                    w.Close();
                    w.Line("else");
                    w.Open();
                    for (int dt = 0; dt < dTiles; dt++)
                    {
                        string a = $"{acc}_{mt}_{dt}.{Comp[2 * r]}", b = $"{acc}_{mt}_{dt}.{Comp[2 * r + 1]}";
                        w.Line($"{DimGuard(c, dt, minDim)}PtxOps.StoreWord(p.{name} + (ulong)((rowElement + {dt * 8}) * 2), kind.Pack({a} * {factor}, {b} * {factor}));");
                    }
                    w.Close();
                }
                w.Close();
            }
        w.Close();
    }

    /// <summary>The bounds test of d-tile <paramref name="dt"/> in the epilogue; none where every head dim this kernel serves has it.</summary>
    private static string DimGuard(BackwardKvGridConfig c, int dt, int minDim) =>
        (c.WarpsM - 1) * c.DimsPerWarp + dt * 8 < minDim ? "" : $"if (dimCol0 + {dt * 8} < p.HeadDim) ";

    /// <summary>
    /// acc_mt_nt = A·Bᵀ over the head dim: A the warp's key rows of K or V (<paramref name="aFrag"/>, re-read per pair of
    /// k-steps), B the warp's query rows of the Q or dO tile, one ldmatrix.x4 per n-tile and pair of k-steps.
    /// </summary>
    private static void EmitGridProduct(CodeWriter w, BackwardKvGridConfig c, string acc, string aFrag, string tile)
    {
        int rb = c.LayoutDim * 2, kSteps = c.HeadDim / 16, nTiles = c.QueriesPerWarp / 8;
        for (int mt = 0; mt < c.KeyTiles; mt++)
            for (int nt = 0; nt < nTiles; nt++)
                w.Line($"Float4 {acc}_{mt}_{nt} = default;");
        for (int pr = 0; pr < kSteps / 2; pr++)
        {
            for (int mt = 0; mt < c.KeyTiles; mt++)
                for (int h = 0; h < 2; h++)
                    w.Line($"Uint4 {acc}a_{pr}_{mt}_{h} = PtxOps.LdMatrixX4({aFrag} + {mt * 16 * rb}u + (uint)((({4 * pr + 2 * h} + half) ^ swz) << 4));");
            w.Line($"uint {acc}Off{pr} = {tile} + (uint)(bRow + ((({4 * pr} + quarter) ^ swz) << 4));");
            for (int nt = 0; nt < nTiles; nt++)
            {
                string b = $"{acc}b_{pr}_{nt}";
                w.Line($"Uint4 {b} = PtxOps.LdMatrixX4({acc}Off{pr} + {nt * 8 * rb}u);");
                for (int mt = 0; mt < c.KeyTiles; mt++)
                {
                    string a0 = $"{acc}a_{pr}_{mt}_0", a1 = $"{acc}a_{pr}_{mt}_1";
                    w.Line($"{acc}_{mt}_{nt} = kind.Mma({acc}_{mt}_{nt}, {a0}.X, {a0}.Y, {a0}.Z, {a0}.W, {b}.X, {b}.Y);");
                    w.Line($"{acc}_{mt}_{nt} = kind.Mma({acc}_{mt}_{nt}, {a1}.X, {a1}.Y, {a1}.Z, {a1}.W, {b}.Z, {b}.W);");
                }
            }
        }
    }

    /// <summary>
    /// Packs element pairs of the warp's transposed tile and stores them at their swizzled place in a shared tile
    /// (<paramref name="store"/>: the lane's row g, byte 4t). Reads <c>qChunk0</c>, <c>g</c>.
    /// </summary>
    private static void EmitTileStore(CodeWriter w, int mTiles, int nTiles, string store, Func<int, int, int, string> element)
    {
        for (int mt = 0; mt < mTiles; mt++)
            for (int nt = 0; nt < nTiles; nt++)
                for (int r = 0; r < 2; r++)
                    w.Line($"PtxOps.StoreShared({store} + {(16 * mt + 8 * r)}u * SRowBytes + (uint)(((qChunk0 + {nt}) ^ g) << 4), kind.Pack({element(mt, nt, 2 * r)}, {element(mt, nt, 2 * r + 1)}));");
    }

    /// <summary>
    /// acc_mt_dt += A·B over the query tile: A the warp's key rows of the shared Pᵀ or dSᵀ tile (<paramref name="aFrag"/>),
    /// B the dO or Q tile's rows by ldmatrix.trans at the warp's head dims.
    /// </summary>
    private static void EmitGridAccumulate(CodeWriter w, BackwardKvGridConfig c, string acc, string aFrag, string tile)
    {
        int sRowBytes = c.BlockM * 2, qSteps = c.BlockM / 16, dTiles = c.DimsPerWarp / 8;
        for (int kk = 0; kk < qSteps; kk++)
        {
            for (int mt = 0; mt < c.KeyTiles; mt++)
                w.Line($"Uint4 {acc}a_{kk}_{mt} = PtxOps.LdMatrixX4({aFrag} + {mt * 16 * sRowBytes}u + (uint)((({2 * kk} + half) ^ swz) << 4));");
            w.Line($"uint {acc}Off{kk} = {tile} + (uint)(tRow + {kk * 16} * RowBytes);");
            for (int u = 0; u < dTiles / 2; u++)
            {
                string b = $"{acc}b_{kk}_{u}";
                w.Line($"Uint4 {b} = PtxOps.LdMatrixX4Trans({acc}Off{kk} + (uint)(((dimChunk0 + {2 * u} + half) ^ swz) << 4));");
                for (int mt = 0; mt < c.KeyTiles; mt++)
                {
                    string a = $"{acc}a_{kk}_{mt}";
                    w.Line($"{acc}_{mt}_{2 * u} = kind.Mma({acc}_{mt}_{2 * u}, {a}.X, {a}.Y, {a}.Z, {a}.W, {b}.X, {b}.Y);");
                    w.Line($"{acc}_{mt}_{2 * u + 1} = kind.Mma({acc}_{mt}_{2 * u + 1}, {a}.X, {a}.Y, {a}.Z, {a}.W, {b}.Z, {b}.W);");
                }
            }
        }
    }
}
