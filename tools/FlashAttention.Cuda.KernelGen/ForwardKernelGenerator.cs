namespace FlashAttention.Cuda.KernelGen;

/// <summary>
/// One tile configuration of the forward kernel.
/// </summary>
/// <param name="HeadDim">
/// The head dim the kernel computes with (a multiple of 32, at most 256). Tensors with a smaller head dim (a multiple of
/// 8) run on it too: the columns past theirs are zero-filled in shared memory and never stored.
/// </param>
/// <param name="BlockN">Keys per tile (a multiple of 16).</param>
/// <param name="Warps">Warps per thread block.</param>
/// <param name="MTiles">16-row m-tiles per warp; the block owns Warps·MTiles·16 query rows.</param>
/// <param name="QInRegisters">Keep the warp's Q fragments in registers for the whole kernel, or re-read them from shared memory per key tile.</param>
/// <param name="LazyRescale">
/// Move a row's running maximum only when it grows by more than 2^8 (probabilities then stay ≤ 256 before the final
/// normalisation, exact after it), and rescale the accumulators only when some row of the warp moved (a warp vote); P is
/// packed into A fragments right before each P·V step, so the score registers free up as it goes.
/// </param>
/// <param name="SharedEpilogue">
/// Store 16-bit O through shared memory: each warp writes its normalised rows into its own rows of the Q tile (no other
/// warp reads them), then stores them with one 16-byte store per lane and chunk, whole rows per instruction, instead of
/// a 4-byte store per accumulator pair. Float output keeps the direct stores.
/// </param>
/// <param name="TailTiles">
/// The key tile the keys end in, when it holds at most BlockN − 16 of them, runs after the key loop, outside it, as a
/// copy of the tile step sized to its keys (rounded up to 16): 1024 keys in 48-key tiles end with 16 keys, which then
/// cost a third of a tile instead of a whole one. The loop keeps its code; the branch is block-uniform. (Copies inside
/// the loop, or a second loop, made ptxas spill in the loop itself: docs/benchmarks.md run 21.)
/// </param>
/// <param name="AdvancingPointer">
/// The key loop keeps one 64-bit pointer, to this thread's chunk of the next K tile, and advances it by a tile per step;
/// V's chunk is that pointer plus the distance between the V and K tensors, and the row stride is derived from the
/// parameters where it is used. Otherwise the K and V bases, the row stride and the thread's offset (four 64-bit values,
/// eight registers) stay live through the loop. The copies chain their pass addresses (<see cref="KernelSnippets.Load"/>),
/// the window test works from each score's distance to its row's diagonal and swizzled offsets split into a lane part
/// and a constant: nothing per pass or per row is loop-invariant, so ILGPU hoists none of it. Measured on an H100
/// (docs/benchmarks.md run 40): this does not remove spills (the D128 64-key kernel spills 48 B against 24 B), yet that
/// kernel is the fastest non-causal D128 forward there.
/// </param>
public sealed record ForwardConfig(int HeadDim, int BlockN, int Warps, int MTiles, bool QInRegisters, bool LazyRescale = false, bool SharedEpilogue = false,
    bool TailTiles = false, bool AdvancingPointer = false)
{
    /// <summary>Query rows per thread block.</summary>
    public int BlockM => Warps * MTiles * 16;

    /// <summary>Threads per block.</summary>
    public int Threads => Warps * 32;

    /// <summary>Row length of the shared-memory tiles: a power of two of at least 64 elements (the swizzle needs 128-byte rows).</summary>
    public int LayoutDim => KernelLayout.LayoutDim(HeadDim);

    /// <summary>Bytes of dynamic shared memory: the Q tile and two stages each of K and V.</summary>
    public int SharedBytes => (BlockM + 4 * BlockN) * LayoutDim * 2;

    /// <summary>The kernel's method name.</summary>
    public string Name => $"D{HeadDim}_M{BlockM}_N{BlockN}_W{Warps}" + (QInRegisters ? "" : "_QS") + (LazyRescale ? "_LR" : "") + (SharedEpilogue ? "_SE" : "") + (TailTiles ? "_TT" : "") + (AdvancingPointer ? "_AP" : "");
}

/// <summary>Shared-memory layout rules common to the generators.</summary>
public static class KernelLayout
{
    /// <summary>The smallest power of two of at least 64 that holds <paramref name="headDim"/> elements.</summary>
    public static int LayoutDim(int headDim) => headDim <= 64 ? 64 : headDim <= 128 ? 128 : 256;
}

/// <summary>
/// Writes the forward kernels as C# for ILGPU. Register tiles (accumulators, fragments) must be scalars for ILGPU to
/// keep them in registers, so every loop over tiles inside a key block is unrolled here, once per configuration; the
/// loops over key blocks and over rows of a copy stay loops. The output is checked in
/// (src/FlashAttention.Cuda/Kernels/ForwardKernels.g.cs) and a test keeps it equal to what this class writes.
/// Every kernel serves the dense and the packed (cu_seqlens) layouts, any head dim up to its own, softmax and cosine
/// attention, and the caller's score and mask modifiers (generic parameters: off costs nothing).
/// </summary>
public static class ForwardKernelGenerator
{
    /// <summary>
    /// The configurations compiled into the backend. Measured on the H100 and H200 (docs/gpu-notes.md): 128 query rows per
    /// block (4 warps × 2 m-tiles) beat 64 rows and 8-warp blocks at head dims 64 and 128; at 128 the register budget allows
    /// 48 keys per tile with Q re-read from shared memory. Head dim 256 keeps one m-tile per warp (its output alone takes
    /// 128 registers per thread).
    /// </summary>
    public static IReadOnlyList<ForwardConfig> Configs { get; } =
    [
        new(32, 64, 4, 2, true),
        new(64, 64, 4, 2, true),
        new(64, 64, 4, 2, false),
        new(96, 64, 4, 2, false, true),
        new(128, 48, 4, 2, false),
        new(128, 32, 4, 2, false),
        new(64, 64, 4, 2, true, true),
        new(128, 48, 4, 2, false, true),
        new(128, 64, 4, 2, false, true),
        new(256, 32, 4, 1, false, true),
        new(128, 32, 4, 2, false, true),
        new(96, 64, 4, 2, false),
        // O through shared memory with 16-byte stores (measured against the defaults, docs/gpu-notes.md).
        new(128, 48, 4, 2, false, true, true),
        new(64, 64, 4, 2, true, false, true),
        new(128, 32, 4, 2, false, true, true),
        new(128, 64, 4, 2, false, true, true),
        new(96, 32, 4, 2, false),
        // The last, partial key tile sized to its keys (a candidate, docs/gpu-notes.md).
        new(128, 48, 4, 2, false, true, true, true),
        // One advancing K/V pointer in the key loop (candidates, docs/benchmarks.md run 40).
        new(128, 64, 4, 2, false, true, true, false, true),
        new(128, 48, 4, 2, false, true, true, false, true),
    ];

    private static readonly string[] Comp = ["X", "Y", "Z", "W"];

    /// <summary>The whole generated source file.</summary>
    public static string Generate() => Generate(Configs);

    /// <summary>The generated source file for the given configurations.</summary>
    public static string Generate(IEnumerable<ForwardConfig> configs)
    {
        var w = new CodeWriter();
        w.Line("// <auto-generated>");
        w.Line("// Written by tools/FlashAttention.Cuda.KernelGen (ForwardKernelGenerator). Do not edit: change the generator and run");
        w.Line("//   dotnet run --project tools/FlashAttention.Cuda.KernelGen");
        w.Line("// </auto-generated>");
        w.Line("using FlashAttention.Cuda.Ptx;");
        w.Line("using ILGPU;");
        w.Line();
        w.Line("namespace FlashAttention.Cuda.Kernels;");
        w.Line();
        w.Line("internal static partial class ForwardKernels");
        w.Open();
        var list = configs.ToList();
        var dims = list.Select(c => c.HeadDim).Distinct().Order().ToList();
        w.Line("/// <summary>Every generated forward kernel with its tile shape.</summary>");
        w.Line("public static ForwardVariant[] Variants { get; } =");
        w.Line("[");
        foreach (var config in list)
            w.Line($"    new(\"{config.Name}\", HeadDim: {config.HeadDim}, BlockM: {config.BlockM}, BlockN: {config.BlockN}, Threads: {config.Threads}, SharedBytes: {config.SharedBytes}),");
        w.Line("];");
        foreach (var config in list)
        {
            w.Line();
            int index = dims.IndexOf(config.HeadDim);
            Kernel(w, config, index == 0 ? 8 : dims[index - 1] + 8);
        }
        w.Close();
        return w.ToString();
    }

    /// <param name="w">The writer.</param>
    /// <param name="c">The configuration.</param>
    /// <param name="minDim">The smallest runtime head dim served by this kernel: columns below it are always stored.</param>
    private static void Kernel(CodeWriter w, ForwardConfig c, int minDim)
    {
        if (c.HeadDim % 32 != 0 || c.HeadDim > 256 || c.BlockN % 16 != 0)
            throw new ArgumentException($"Unsupported configuration {c}.");
        int d = c.HeadDim, layout = c.LayoutDim, rowBytes = layout * 2, kSteps = d / 16, nTiles = c.BlockN / 8, dTiles = d / 8;
        int layoutChunks = layout / 8;
        int chunksLog2 = (int)Math.Log2(layoutChunks);

        w.Line("/// <summary>");
        w.Line($"/// Forward pass, head dim ≤ {d}: a block of {c.Threads} threads owns {c.BlockM} query rows ({c.Warps} warps × {c.MTiles} m-tile(s) of 16),");
        w.Line($"/// streams key/value tiles of {c.BlockN} rows through double-buffered shared memory (cp.async), computes S = Q·Kᵀ and");
        w.Line("/// O += P·V with mma.sync.m16n8k16 (fragments by ldmatrix), and keeps the online softmax in registers in base-2 units.");
        w.Line($"/// Q fragments: {(c.QInRegisters ? "loaded once into registers" : "re-read from shared memory for every key tile")}.");
        w.Line("/// </summary>");
        w.Line($"public static void {c.Name}<TKind, TMode, TFeatures, TScore, TMask, TLayout>(ForwardParams p, ModPair<TScore, TMask> mods) " +
               "where TKind : struct, IElementKind where TMode : struct, IScoreMode where TFeatures : struct, IFeatures " +
               "where TScore : struct, ICudaScoreMod where TMask : struct, ICudaMaskMod where TLayout : struct, ISequenceLayout");
        w.Open();
        w.Line($"const int RowBytes = {rowBytes}, BlockM = {c.BlockM}, BlockN = {c.BlockN};");
        w.Line("const int QBytes = BlockM * RowBytes, KvBytes = BlockN * RowBytes;");
        w.Line("var kind = default(TKind);");
        w.Line("var mode = default(TMode);");
        w.Line("var features = default(TFeatures);");
        w.Line("var score = mods.Score;");
        w.Line("var mask = mods.Mask;");
        w.Line("// Dense or packed tokens, fixed per instantiation: a dense call's lengths stay parameters, not registers.");
        w.Line("var layout = default(TLayout);");
        w.Line("// ALiBi and score modifiers are not proportional to the raw score: scores become base-2 logits before the row maximum.");
        w.Line("bool logitsFirst = features.Alibi || score.Enabled;");
        w.Line("int tid = Group.IdxX;");
        w.Line("int lane = tid & 31;");
        w.Line("int warp = tid >> 5;");
        w.Line("int g = lane >> 2;");
        w.Line("int t = lane & 3;");
        w.Line("int swz = lane & 7;");
        w.Line("// Latest (under a causal mask the longest) query blocks first, heads grouped to share L2 (TileMath.GroupedBlock).");
        w.Line("int qBlock = p.QueryBlocks - 1 - TileMath.GroupedBlock(Grid.IdxX, p.HeadGroupShift);");
        w.Line("int head = TileMath.GroupedHead(Grid.IdxX, Grid.IdxY, p.HeadGroupShift);");
        w.Line("int batch = Grid.IdxZ;");
        w.Line("int kvHead = head / p.GroupSize;");
        EmitSequence(w, "layout.Packed");
        w.Line("int qStart = qBlock * BlockM;");
        w.Line("if (qStart >= seqQ)");
        w.Line("    return;");
        w.Line("int qRows = seqQ - qStart < BlockM ? seqQ - qStart : BlockM;");
        w.Line("int qEnd = qStart + qRows;");
        w.Line("int nFirst = TileMath.KeyBlockFirst(p.WindowLeft, p.WindowRight, qStart, qEnd, seqQ, seqK, BlockN);");
        w.Line("int nEnd = TileMath.KeyBlockEnd(p.WindowLeft, p.WindowRight, qStart, qEnd, seqQ, seqK, BlockN);");
        w.Line("uint sQ = PtxOps.SharedBase();");
        w.Line("uint sK = sQ + QBytes;");
        w.Line("uint sV = sK + 2 * KvBytes;");
        w.Line("int headBytes = p.HeadDim * 2;");
        w.Line("long qRowStride = (long)p.Heads * headBytes;");
        w.Line("long kRowStride = (long)p.KvHeads * headBytes;");
        w.Line("long qOffset = (qTok0 + qStart) * qRowStride + (long)head * headBytes;");
        w.Line("long kOffset = kTok0 * kRowStride + (long)kvHead * headBytes;");
        w.Line("ulong qBase = p.Q + (ulong)qOffset;");
        w.Line("ulong kBase = p.K + (ulong)kOffset;");
        w.Line("ulong vBase = p.V + (ulong)kOffset;");
        w.Line("// Copy assignment: thread tid copies 16-byte chunk (tid mod chunks) of rows tid / chunks + i·RowStep; chunks past the");
        w.Line("// tensors' head dim are zero-filled.");
        w.Line($"const int RowStep = {c.Threads / layoutChunks};");
        w.Line($"int ldRow = tid >> {chunksLog2};");
        w.Line($"int ldChunk = tid & {layoutChunks - 1};");
        w.Line("bool chunkOk = ldChunk < (p.HeadDim >> 3);");
        w.Line("uint ldShared = (uint)TileMath.SwizzledOffset(ldRow, ldChunk, RowBytes);");
        w.Line("long ldQ = ldRow * qRowStride + (ldChunk << 4);");
        w.Line("long ldKv = ldRow * kRowStride + (ldChunk << 4);");
        w.Line();
        w.Line("// Prologue: Q tile, then the first K and V tiles, as three cp.async groups.");
        w.Open();
        KernelSnippets.Load(w, c.Threads, layout, "sQ", "qBase", "ldQ", "qRowStride", c.BlockM, "qRows");
        w.Close();
        w.Line("PtxOps.CommitGroup();");
        w.Line("if (nFirst < nEnd)");
        w.Open();
        KernelSnippets.Load(w, c.Threads, layout, "sK", "kBase + (ulong)(nFirst * BlockN * kRowStride)", "ldKv", "kRowStride", c.BlockN, "seqK - nFirst * BlockN");
        w.Close();
        w.Line("PtxOps.CommitGroup();");
        w.Line("if (nFirst < nEnd)");
        w.Open();
        KernelSnippets.Load(w, c.Threads, layout, "sV", "vBase + (ulong)(nFirst * BlockN * kRowStride)", "ldKv", "kRowStride", c.BlockN, "seqK - nFirst * BlockN");
        w.Close();
        w.Line("PtxOps.CommitGroup();");
        w.Line("PtxOps.WaitGroup2();");
        w.Line("Group.Barrier();");
        w.Line();
        w.Line($"int warpRow = warp * {16 * c.MTiles};");
        w.Line("uint qFrag = sQ + (uint)((warpRow + (lane & 15)) * RowBytes);");
        w.Line("int qHalf = lane >> 4;");
        if (c.QInRegisters)
        {
            w.Line("// A fragments of the warp's Q rows: matrices (rows 0-7, k 0-7), (8-15, 0-7), (0-7, 8-15), (8-15, 8-15).");
            for (int mt = 0; mt < c.MTiles; mt++)
                for (int kk = 0; kk < kSteps; kk++)
                    w.Line($"Uint4 q_{mt}_{kk} = PtxOps.LdMatrixX4(qFrag + {mt * 16 * rowBytes}u + (uint)(((({2 * kk}) + qHalf) ^ swz) << 4));");
        }
        w.Line("int kRow = (lane & 7) * RowBytes;");
        w.Line("int kQuarter = lane >> 3;");
        w.Line("int vRow = (lane & 15) * RowBytes;");
        w.Line("int shift = seqK - seqQ;");
        w.Line("int rowBase = qStart + warpRow + g;");
        w.Line("// Optional features: constant per instantiation, so these branches vanish from the kernel without them.");
        w.Line("float alibiSlope = features.Alibi ? PtxOps.LoadFloat(p.Alibi + (ulong)(((long)batch * p.Heads + head) * 4)) : 0f;");
        w.Line("uint dropHead = (uint)(batch * p.Heads + head);");
        w.Line("float maskFill = logitsFirst ? float.NegativeInfinity : mode.MaskFill;");
        for (int mt = 0; mt < c.MTiles; mt++)
            for (int h = 0; h < 2; h++)
            {
                string r = $"{mt}_{h}";
                w.Line($"float m_{r} = features.FixedShift ? p.FixedShift : float.NegativeInfinity;");
                w.Line($"float l_{r} = 0f;");
            }
        for (int mt = 0; mt < c.MTiles; mt++)
            for (int dt = 0; dt < dTiles; dt++)
                w.Line($"Float4 o_{mt}_{dt} = default;");
        w.Line();
        // Where the key loop's copies find the next tile: this thread's chunk of tile n + 1.
        string nextK = c.AdvancingPointer ? "kvNext" : "kBase + (ulong)((n + 1) * BlockN * kRowStride)";
        string nextV = c.AdvancingPointer ? "kvNext + (ulong)(p.V - p.K)" : "vBase + (ulong)((n + 1) * BlockN * kRowStride)";
        string? nextOffset = c.AdvancingPointer ? null : "ldKv";
        const string KvRowStrideFromParams = "((long)p.KvHeads * (p.HeadDim * 2))";
        string loopStride = c.AdvancingPointer ? KvRowStrideFromParams : "kRowStride";
        string advance = c.AdvancingPointer ? $", kvNext += (ulong)(BlockN * {KvRowStrideFromParams})" : "";
        if (c.AdvancingPointer)
            w.Line("ulong kvNext = kBase + (ulong)ldKv + (ulong)((nFirst + 1) * BlockN * kRowStride);");
        if (!c.TailTiles)
            KeyLoop($"for (int n = nFirst; n < nEnd; n++{advance})", false);
        else
        {
            w.Line("// The tiles that lie wholly before the end of the keys, then (after the loop, not in one) the tile the");
            w.Line("// keys end in, whose step is sized to the keys it holds: the hot loop keeps its code and registers.");
            w.Line("// A tile with more than BlockN - 16 keys left runs the whole step (masked) in the first loop.");
            w.Line("int nFull = (seqK + 15) / BlockN < nEnd ? ((seqK + 15) / BlockN > nFirst ? (seqK + 15) / BlockN : nFirst) : nEnd;");
            KeyLoop($"for (int n = nFirst; n < nFull; n++{advance})", false);
            KeyLoop("if (nFull < nEnd)", true);
        }

        // The byte offset of 16-byte chunk (first + lane part) of a swizzled row, first a multiple of the lane part's range.
        // The XOR with swz (0-7) touches the low three bits only, so with _AP the chunk's upper bits are added as a
        // constant (ptxas folds it into the ldmatrix offset) and only the low part, at most eight values, is a register.
        string SwizzledChunk(int first, string lanePart) => c.AdvancingPointer
            ? $"(uint)((({first & 7} + {lanePart}) ^ swz) << 4)" + ((first & ~7) != 0 ? $" + {(first & ~7) << 4}u" : "")
            : $"(uint)((({first} + {lanePart}) ^ swz) << 4)";

        // A loop over key tiles: the pipeline step, then the tile's step (with `tail`, sized to the keys left).
        void KeyLoop(string header, bool tail)
        {
            w.Line(header);
            w.Open();
            if (tail)
                w.Line("int n = nFull;");
            w.Line("uint stage = (uint)((n - nFirst) & 1);");
            w.Line("uint kTile = sK + stage * KvBytes;");
            w.Line("uint vTile = sV + stage * KvBytes;");
            w.Line("PtxOps.WaitGroup1();");
            w.Line("Group.Barrier();");
            w.Line("if (n + 1 < nEnd)");
            w.Open();
            KernelSnippets.Load(w, c.Threads, layout, "sK + (stage ^ 1) * KvBytes", nextK, nextOffset, loopStride, c.BlockN, "seqK - (n + 1) * BlockN", c.AdvancingPointer);
            w.Close();
            w.Line("PtxOps.CommitGroup();");
            w.Line("// The caller's mask may hide a whole tile: then only the pipeline moves on (block-uniform).");
            w.Line("BlockCoverage coverage = mask.Enabled ? mask.Classify(new TileBounds(batch, head, qStart, qEnd, n * BlockN, (n + 1) * BlockN < seqK ? (n + 1) * BlockN : seqK, seqQ, seqK)) : BlockCoverage.Full;");
            w.Line("if (mask.Enabled && coverage == BlockCoverage.Empty)");
            w.Open();
            w.Line("PtxOps.WaitGroup1();");
            w.Line("Group.Barrier();");
            w.Line("if (n + 1 < nEnd)");
            w.Open();
            KernelSnippets.Load(w, c.Threads, layout, "sV + (stage ^ 1) * KvBytes", nextV, nextOffset, loopStride, c.BlockN, "seqK - (n + 1) * BlockN", c.AdvancingPointer);
            w.Close();
            w.Line("PtxOps.CommitGroup();");
            if (!tail)
                w.Line("continue;");
            w.Close();
            w.Line();
            if (!tail)
                TileStep(c.BlockN);
            else
            {
                // Not a loop: the last tile's step runs where the caller's mask does not hide the tile.
                w.Line("else");
                w.Open();
                w.Line("int keysLeft = seqK - n * BlockN;");
                for (int keys = 16; keys < c.BlockN; keys += 16)
                {
                    // Here 1 ≤ keysLeft ≤ BlockN - 16: the last size needs no test.
                    if (keys < c.BlockN - 16)
                        w.Line($"{(keys == 16 ? "" : "else ")}if (keysLeft <= {keys})");
                    else if (keys > 16)
                        w.Line("else");
                    w.Open();
                    TileStep(keys);
                    w.Close();
                }
                w.Close();
            }
            w.Close();
        }

        // One key tile's step, for the first `keys` keys of the tile (all of them but in a tail-sized copy): S = Q·Kᵀ,
        // masking, the online softmax, dropout, and O += P·V.
        void TileStep(int keys)
        {
            int bodyTiles = keys / 8;
            w.Line("// S = Q·Kᵀ: for each pair of k-steps one ldmatrix.x4 gives the B fragments of an 8-key tile.");
            for (int mt = 0; mt < c.MTiles; mt++)
                for (int j = 0; j < bodyTiles; j++)
                    w.Line($"Float4 s_{mt}_{j} = default;");
            for (int pr = 0; pr < kSteps / 2; pr++)
            {
                int k0 = 2 * pr, k1 = 2 * pr + 1;
                if (!c.QInRegisters)
                    for (int mt = 0; mt < c.MTiles; mt++)
                    {
                        w.Line($"Uint4 q_{mt}_{k0} = PtxOps.LdMatrixX4(qFrag + {mt * 16 * rowBytes}u + {SwizzledChunk(2 * k0, "qHalf")});");
                        w.Line($"Uint4 q_{mt}_{k1} = PtxOps.LdMatrixX4(qFrag + {mt * 16 * rowBytes}u + {SwizzledChunk(2 * k1, "qHalf")});");
                    }
                w.Line(c.AdvancingPointer
                    ? $"uint kOff{pr} = kTile + (uint)kRow + {SwizzledChunk(4 * pr, "kQuarter")};"
                    : $"uint kOff{pr} = kTile + (uint)(kRow + ((({4 * pr} + kQuarter) ^ swz) << 4));");
                for (int j = 0; j < bodyTiles; j++)
                {
                    w.Line($"Uint4 kb_{pr}_{j} = PtxOps.LdMatrixX4(kOff{pr} + {j * 8 * rowBytes}u);");
                    for (int mt = 0; mt < c.MTiles; mt++)
                    {
                        w.Line($"s_{mt}_{j} = kind.Mma(s_{mt}_{j}, q_{mt}_{k0}.X, q_{mt}_{k0}.Y, q_{mt}_{k0}.Z, q_{mt}_{k0}.W, kb_{pr}_{j}.X, kb_{pr}_{j}.Y);");
                        w.Line($"s_{mt}_{j} = kind.Mma(s_{mt}_{j}, q_{mt}_{k1}.X, q_{mt}_{k1}.Y, q_{mt}_{k1}.Z, q_{mt}_{k1}.W, kb_{pr}_{j}.Z, kb_{pr}_{j}.W);");
                    }
                }
            }
            w.Line();
            w.Line("// Score mode (identity, or softcap's tanh); with ALiBi or a score modifier, base-2 logits right away.");
            w.Line("float prep = p.PrepScale;");
            w.Line("int col = n * BlockN + 2 * t;");
            for (int mt = 0; mt < c.MTiles; mt++)
                for (int j = 0; j < bodyTiles; j++)
                    foreach (var e in Comp)
                        w.Line($"s_{mt}_{j}.{e} = mode.Prepare(s_{mt}_{j}.{e}, prep);");
            w.Line("if (logitsFirst)");
            w.Open();
            w.Line("float fsl2 = p.ScaleLog2;");
            for (int mt = 0; mt < c.MTiles; mt++)
                for (int j = 0; j < bodyTiles; j++)
                    for (int e = 0; e < 4; e++)
                    {
                        string x = $"s_{mt}_{j}.{Comp[e]}";
                        string row = $"rowBase + {mt * 16 + (e / 2) * 8}";
                        string cc = $"col + {j * 8 + (e & 1)}";
                        w.Line($"{x} *= fsl2;");
                        w.Line($"if (features.Alibi) {x} -= alibiSlope * (float)BackwardKernels.AbsDistance({row} + shift, {cc});");
                        w.Line($"if (score.Enabled && {row} < seqQ && {cc} < seqK) {x} = score.Apply({x} * 0.6931471805599453f, new CudaScorePosition(batch, head, {row}, {cc}, seqQ, seqK)) * 1.4426950408889634f;");
                    }
            w.Close();
            w.Line();
            w.Line("// Masking: a hidden score becomes the value that maps to -inf (window, causal, past the end, padding, the caller's mask).");
            w.Line("bool userMask = mask.Enabled && coverage != BlockCoverage.Full;");
            w.Line("if (userMask || p.KeyMask != 0 || TileMath.TileNeedsMask(n, BlockN, p.WindowLeft, p.WindowRight, qStart, qEnd, seqQ, seqK))");
            w.Open();
            w.Line("int lastKey = seqK - 1;");
            w.Line("if (p.KeyMask != 0)");
            w.Open();
            w.Line("ulong keyMask = p.KeyMask + (ulong)((long)batch * p.KeyMaskStride);");
            for (int j = 0; j < bodyTiles; j++)
                for (int e = 0; e < 2; e++)
                {
                    string cc = $"col + {j * 8 + e}";
                    w.Line($"bool keep_{j}_{e} = PtxOps.LoadByte(keyMask + (ulong)({cc} <= lastKey ? {cc} : lastKey)) != 0;");
                    for (int mt = 0; mt < c.MTiles; mt++)
                        foreach (var x in new[] { Comp[e], Comp[e + 2] })
                            w.Line($"s_{mt}_{j}.{x} = keep_{j}_{e} ? s_{mt}_{j}.{x} : maskFill;");
                }
            w.Close();
            if (c.AdvancingPointer)
            {
                // Each element's distance from its row's diagonal, d = key - (row + shift), from one value that moves with
                // n: per-row bounds (the rows' diagonals minus the window) would be loop-invariant, hoisted by ILGPU and
                // live through the whole loop, three registers a row.
                w.Line("int dBase = col - rowBase - shift;");
                w.Line("int negLeft = -p.WindowLeft;");
                w.Line("int right = p.WindowRight;");
                w.Line("bool anyLeft = p.WindowLeft < 0;");
                w.Line("bool anyRight = p.WindowRight < 0;");
            }
            else
                KernelSnippets.RowWindowBounds(w, c.MTiles);
            for (int mt = 0; mt < c.MTiles; mt++)
                for (int j = 0; j < bodyTiles; j++)
                    for (int e = 0; e < 4; e++)
                    {
                        string r = $"{mt}_{e / 2}";
                        string cc = $"col + {j * 8 + (e & 1)}";
                        string row = $"rowBase + {mt * 16 + (e / 2) * 8}";
                        string inWindow;
                        if (c.AdvancingPointer)
                        {
                            int offset = j * 8 + (e & 1) - (mt * 16 + (e / 2) * 8);
                            string d = offset == 0 ? "dBase" : offset > 0 ? $"(dBase + {offset})" : $"(dBase - {-offset})";
                            inWindow = $"{cc} <= lastKey && (anyLeft || {d} >= negLeft) && (anyRight || {d} <= right)";
                        }
                        else
                            inWindow = $"{cc} >= lo_{r} && {cc} <= hi_{r}";
                        w.Line($"s_{mt}_{j}.{Comp[e]} = {inWindow} && (!userMask || ({row} < seqQ && mask.IsVisible(new CudaScorePosition(batch, head, {row}, {cc}, seqQ, seqK)))) ? s_{mt}_{j}.{Comp[e]} : maskFill;");
                    }
            w.Close();
            w.Line();
            w.Line("// Online softmax in base-2 units (m is the running max of scale·log2(e)·s; exponent by one FFMA):");
            w.Line("// each row lives in one quad of lanes (row g: X, Y; row g + 8: Z, W). Cosine attention: m is fixed.");
            w.Line("float sl2 = logitsFirst ? 1f : p.ScaleLog2;");
            if (c.LazyRescale)
                w.Line("bool grew = false;");
            for (int mt = 0; mt < c.MTiles; mt++)
                for (int h = 0; h < 2; h++)
                {
                    string r = $"{mt}_{h}";
                    string a = Comp[2 * h], b = Comp[2 * h + 1];
                    var terms = new List<string>();
                    for (int j = 0; j < bodyTiles; j++)
                    {
                        terms.Add($"s_{mt}_{j}.{a}");
                        terms.Add($"s_{mt}_{j}.{b}");
                    }
                    w.Line($"float alpha_{r} = 1f;");
                    w.Line("if (features.FixedShift)");
                    w.Open();
                    foreach (var term in terms)
                        w.Line($"{term} = PtxOps.Exp2({term} * sl2 - m_{r});");
                    w.Line($"l_{r} += {KernelSnippets.Tree(terms)};");
                    w.Close();
                    w.Line("else");
                    w.Open();
                    w.Line($"float mx_{r} = {KernelSnippets.Tree(terms, "Reduce<TMode, TFeatures, TScore>")};");
                    w.Line($"mx_{r} = Reduce<TMode, TFeatures, TScore>(mx_{r}, PtxOps.ShuffleXor(mx_{r}, 1));");
                    w.Line($"mx_{r} = Reduce<TMode, TFeatures, TScore>(mx_{r}, PtxOps.ShuffleXor(mx_{r}, 2));");
                    if (c.LazyRescale)
                    {
                        // A first finite maximum always moves (+inf > 8); an all-masked row (-inf - -inf = NaN) never does.
                        w.Line($"float mCand_{r} = PtxOps.Max(m_{r}, mx_{r} * sl2);");
                        w.Line($"bool grow_{r} = mCand_{r} - m_{r} > 8f;");
                        w.Line($"grew |= grow_{r};");
                        w.Line($"float mNew_{r} = grow_{r} ? mCand_{r} : m_{r};");
                    }
                    else
                    {
                        w.Line($"float mNew_{r} = PtxOps.Max(m_{r}, mx_{r} * sl2);");
                    }
                    w.Line($"float mUse_{r} = mNew_{r} == float.NegativeInfinity ? 0f : mNew_{r};");
                    w.Line($"alpha_{r} = PtxOps.Exp2(m_{r} - mUse_{r});");
                    w.Line($"m_{r} = mNew_{r};");
                    foreach (var term in terms)
                        w.Line($"{term} = PtxOps.Exp2({term} * sl2 - mUse_{r});");
                    w.Line($"l_{r} = l_{r} * alpha_{r} + ({KernelSnippets.Tree(terms)});");
                    if (!c.LazyRescale)
                        for (int dt = 0; dt < dTiles; dt++)
                        {
                            w.Line($"o_{mt}_{dt}.{a} *= alpha_{r};");
                            w.Line($"o_{mt}_{dt}.{b} *= alpha_{r};");
                        }
                    w.Close();
                }
            if (c.LazyRescale)
            {
                w.Line("// Rescale only when some row of the warp moved its maximum (a warp-uniform branch).");
                w.Line("if (!features.FixedShift && PtxOps.VoteAny(grew ? 1 : 0) != 0)");
                w.Open();
                for (int mt = 0; mt < c.MTiles; mt++)
                    for (int h = 0; h < 2; h++)
                    {
                        string r = $"{mt}_{h}";
                        for (int dt = 0; dt < dTiles; dt++)
                        {
                            w.Line($"o_{mt}_{dt}.{Comp[2 * h]} *= alpha_{r};");
                            w.Line($"o_{mt}_{dt}.{Comp[2 * h + 1]} *= alpha_{r};");
                        }
                    }
                w.Close();
            }
            w.Line();
            w.Line("// Dropout, after the row sums (the LSE is that of the undropped P).");
            DropoutCodegen.EmitRowPairBits(w, c.MTiles, bodyTiles, mt => $"rowBase + {mt * 16}");
            w.Line("if (features.Dropout)");
            w.Open();
            for (int mt = 0; mt < c.MTiles; mt++)
                for (int h = 0; h < 2; h++)
                {
                    string a = Comp[2 * h], b = Comp[2 * h + 1];
                    for (int j = 0; j < bodyTiles; j++)
                    {
                        w.Line($"uint dk_{mt}_{h}_{j} = {DropoutCodegen.RowPairBits(mt, h, j)};");
                        w.Line($"s_{mt}_{j}.{a} = (dk_{mt}_{h}_{j} & 1u) != 0 ? s_{mt}_{j}.{a} : 0f;");
                        w.Line($"s_{mt}_{j}.{b} = (dk_{mt}_{h}_{j} & 2u) != 0 ? s_{mt}_{j}.{b} : 0f;");
                    }
                }
            w.Close();
            w.Line();
            void PackP(int tt)
            {
                for (int mt = 0; mt < c.MTiles; mt++)
                {
                    int j0 = 2 * tt, j1 = 2 * tt + 1;
                    w.Line($"uint p_{mt}_{tt}_0 = kind.Pack(s_{mt}_{j0}.X, s_{mt}_{j0}.Y);");
                    w.Line($"uint p_{mt}_{tt}_1 = kind.Pack(s_{mt}_{j0}.Z, s_{mt}_{j0}.W);");
                    w.Line($"uint p_{mt}_{tt}_2 = kind.Pack(s_{mt}_{j1}.X, s_{mt}_{j1}.Y);");
                    w.Line($"uint p_{mt}_{tt}_3 = kind.Pack(s_{mt}_{j1}.Z, s_{mt}_{j1}.W);");
                }
            }
            w.Line("// P as A fragments: the accumulators of two neighbouring 8-key tiles form one 16×16 A tile.");
            if (!c.LazyRescale)
                for (int tt = 0; tt < keys / 16; tt++)
                    PackP(tt);
            w.Line();
            w.Line("PtxOps.WaitGroup1();");
            w.Line("Group.Barrier();");
            w.Line("if (n + 1 < nEnd)");
            w.Open();
            KernelSnippets.Load(w, c.Threads, layout, "sV + (stage ^ 1) * KvBytes", nextV, nextOffset, loopStride, c.BlockN, "seqK - (n + 1) * BlockN", c.AdvancingPointer);
            w.Close();
            w.Line("PtxOps.CommitGroup();");
            w.Line();
            w.Line("// O += P·V: ldmatrix.trans of V gives the B fragments of two 8-column tiles per 16 keys.");
            for (int tt = 0; tt < keys / 16; tt++)
            {
                if (c.LazyRescale)
                    PackP(tt);
                w.Line($"uint vOff{tt} = vTile + (uint)(vRow + {tt * 16 * rowBytes});");
                for (int u = 0; u < dTiles / 2; u++)
                {
                    w.Line($"Uint4 vb_{tt}_{u} = PtxOps.LdMatrixX4Trans(vOff{tt} + {SwizzledChunk(2 * u, "qHalf")});");
                    for (int mt = 0; mt < c.MTiles; mt++)
                    {
                        string pa = $"p_{mt}_{tt}_0, p_{mt}_{tt}_1, p_{mt}_{tt}_2, p_{mt}_{tt}_3";
                        w.Line($"o_{mt}_{2 * u} = kind.Mma(o_{mt}_{2 * u}, {pa}, vb_{tt}_{u}.X, vb_{tt}_{u}.Y);");
                        w.Line($"o_{mt}_{2 * u + 1} = kind.Mma(o_{mt}_{2 * u + 1}, {pa}, vb_{tt}_{u}.Z, vb_{tt}_{u}.W);");
                    }
                }
            }
        }
        w.Line();
        w.Line("// Epilogue: finish the row sums across the quad, normalise, store O (the head dim's columns) and the natural-log LSE.");
        w.Line("PtxOps.WaitGroup0();");
        w.Line("// Every index from the parameters and the grid again: values kept from the prologue (the block's offset, its");
        w.Line("// first token, its length) would stay live in registers through the whole key loop, and the loop was measured");
        w.Line("// 6 % slower with them (docs/benchmarks.md, run 12).");
        EmitEpilogueIndices(w, c);
        w.Line("ulong lseBase = p.Lse + (ulong)(lseRow * 4);");
        for (int mt = 0; mt < c.MTiles; mt++)
            for (int h = 0; h < 2; h++)
            {
                string r = $"{mt}_{h}";
                string a = Comp[2 * h], b = Comp[2 * h + 1];
                w.Line($"l_{r} += PtxOps.ShuffleXor(l_{r}, 1);");
                w.Line($"l_{r} += PtxOps.ShuffleXor(l_{r}, 2);");
                w.Line("// l = 0: the row saw no key (O = 0, LSE = +∞); a NaN input makes l NaN, which must reach O and LSE.");
                w.Line($"float inv_{r} = l_{r} != 0f ? (features.Dropout ? p.DropScale : 1f) / l_{r} : 0f;");
                w.Line($"int row_{r} = eRowBase + {mt * 16 + h * 8};");
                w.Line($"if (row_{r} < eSeqQ)");
                w.Open();
                w.Line("if (p.FloatOutput != 0)");
                w.Open();
                w.Line($"ulong outF_{r} = p.O + (ulong)(((eTok0 + row_{r}) * eRowStride + eHeadOffset) * 2 + 8 * et);");
                for (int dt = 0; dt < dTiles; dt++)
                {
                    string store = $"{{ PtxOps.StoreFloat(outF_{r} + {dt * 32}ul, o_{mt}_{dt}.{a} * inv_{r}); PtxOps.StoreFloat(outF_{r} + {dt * 32 + 4}ul, o_{mt}_{dt}.{b} * inv_{r}); }}";
                    w.Line(dt * 8 < minDim ? store : $"if ({dt * 8} < p.HeadDim) {store}");
                }
                w.Close();
                if (!c.SharedEpilogue)
                {
                    w.Line("else");
                    w.Open();
                    w.Line($"ulong out_{r} = p.O + (ulong)((eTok0 + row_{r}) * eRowStride + eHeadOffset + 4 * et);");
                    for (int dt = 0; dt < dTiles; dt++)
                    {
                        string store = $"PtxOps.StoreWord(out_{r} + {dt * 16}ul, kind.Pack(o_{mt}_{dt}.{a} * inv_{r}, o_{mt}_{dt}.{b} * inv_{r}));";
                        w.Line(dt * 8 < minDim ? store : $"if ({dt * 8} < p.HeadDim) {store}");
                    }
                    w.Close();
                }
                w.Line("if (et == 0)");
                w.Open();
                w.Line($"float lse_{r} = l_{r} != 0f ? (m_{r} + PtxOps.Log2(l_{r})) * 0.6931471805599453f : float.PositiveInfinity;");
                w.Line($"PtxOps.StoreFloat(lseBase + (ulong)(row_{r} * 4), lse_{r});");
                w.Close();
                w.Close();
                if (c.SharedEpilogue)
                {
                    w.Line("// 16-bit O: the pair (dt·8 + 2t, +1) of row g of this m-tile half goes to its swizzled chunk dt ^ g.");
                    w.Line("if (p.FloatOutput == 0)");
                    w.Open();
                    w.Line($"uint oRow_{r} = PtxOps.SharedBase() + (uint)((eWarpRow + {mt * 16 + h * 8} + (eLane >> 2)) * RowBytes + 4 * et);");
                    for (int dt = 0; dt < dTiles; dt++)
                        w.Line($"PtxOps.StoreShared(oRow_{r} + (uint)((({dt} ^ (eLane >> 2)) << 4)), kind.Pack(o_{mt}_{dt}.{a} * inv_{r}, o_{mt}_{dt}.{b} * inv_{r}));");
                    w.Close();
                }
            }
        if (c.SharedEpilogue)
            EmitSharedOutputStore(w, c);
        w.Close();
    }

    /// <summary>
    /// The warp's rows of 16-bit O, staged in its rows of the Q tile (swizzled like Q), stored with 16-byte stores: lane
    /// i of the warp takes chunks i, i + 32, … of the warp's rows × chunks, so one store instruction writes whole rows.
    /// Only the chunks of the tensors' head dim and the rows that exist are stored.
    /// </summary>
    private static void EmitSharedOutputStore(CodeWriter w, ForwardConfig c)
    {
        int rows = 16 * c.MTiles, chunks = c.LayoutDim / 8, perLane = rows * chunks / 32;
        int chunksLog2 = (int)Math.Log2(chunks);
        w.Line("if (p.FloatOutput == 0)");
        w.Open();
        w.Line("// The warp's staged rows are complete once every lane of it has written its part (no other warp reads them).");
        w.Line("Warp.Barrier();");
        w.Line("int eChunks = p.HeadDim >> 3;");
        w.Line($"int eBlockRow = (p.QueryBlocks - 1 - TileMath.GroupedBlock(Grid.IdxX, p.HeadGroupShift)) * BlockM + eWarpRow;");
        w.Line("ulong oBase = p.O + (ulong)((eTok0 + eBlockRow) * eRowStride + eHeadOffset);");
        w.Line($"for (int i = 0; i < {perLane}; i++)");
        w.Open();
        w.Line("int at = i * 32 + eLane;");
        w.Line($"int sRow = at >> {chunksLog2};");
        w.Line($"int sChunk = at & {chunks - 1};");
        w.Line("if (sChunk < eChunks && eBlockRow + sRow < eSeqQ)");
        w.Open();
        w.Line("Uint4 chunk = PtxOps.LoadShared128(PtxOps.SharedBase() + (uint)((eWarpRow + sRow) * RowBytes + ((sChunk ^ (sRow & 7)) << 4)));");
        w.Line("PtxOps.StoreGlobal128(oBase + (ulong)(sRow * eRowStride + (sChunk << 4)), chunk.X, chunk.Y, chunk.Z, chunk.W);");
        w.Close();
        w.Close();
        w.Close();
    }

    /// <summary>
    /// The epilogue's indices, derived again from the parameters and the grid: eSeqQ, eTok0 (this sequence's first token
    /// row), eRowStride and eHeadOffset (bytes), eRowBase (the row of accumulator element 0 of m-tile 0), et (the lane's
    /// column pair) and lseRow (the LSE index of token row 0 of this sequence).
    /// </summary>
    private static void EmitEpilogueIndices(CodeWriter w, ForwardConfig c)
    {
        w.Line("int eBatch = Grid.IdxZ;");
        w.Line("int eHead = TileMath.GroupedHead(Grid.IdxX, Grid.IdxY, p.HeadGroupShift);");
        EmitSequence(w, "layout.Packed", SequenceNames.QueryEpilogue);
        w.Line("long eRowStride = (long)p.Heads * (p.HeadDim * 2);");
        w.Line("long eHeadOffset = (long)eHead * (p.HeadDim * 2);");
        w.Line("int eLane = Group.IdxX & 31;");
        w.Line($"int eWarpRow = (Group.IdxX >> 5) * {16 * c.MTiles};");
        w.Line("int eRowBase = (p.QueryBlocks - 1 - TileMath.GroupedBlock(Grid.IdxX, p.HeadGroupShift)) * BlockM + eWarpRow + (eLane >> 2);");
        w.Line("int et = eLane & 3;");
        w.Line("long lseRow = layout.Packed ? (long)eHead * p.TotalQ + eTok0 : ((long)eBatch * p.Heads + eHead) * p.SeqQ;");
    }

    /// <summary>
    /// This block's sequence: its length and first token row, from cu_seqlens in the packed layout (then grid x covers the
    /// longest sequence and blocks past a shorter one return at once), from the batch index in the dense layout.
    /// </summary>
    /// <param name="w">The writer.</param>
    /// <param name="packed">The condition for the packed layout (the kernel's layout type, a compile-time constant).</param>
    internal static void EmitSequence(CodeWriter w, string packed) => EmitSequence(w, packed, SequenceNames.Block);

    /// <summary>
    /// The variables <see cref="EmitSequence(CodeWriter, string, SequenceNames)"/> reads and declares: the batch index it
    /// reads, and per side (queries, keys) the length, the first token row and the packed offset; a side whose names are
    /// null is not declared.
    /// </summary>
    internal sealed record SequenceNames(string Batch, string? SeqQ, string? QTok0, string? Q0, string? SeqK, string? KTok0, string? K0)
    {
        /// <summary>The prologue's names, both sides: seqQ, qTok0, seqK, kTok0.</summary>
        public static SequenceNames Block { get; } = new("batch", "seqQ", "qTok0", "q0", "seqK", "kTok0", "k0");

        /// <summary>A forward epilogue's names, the query side only: eSeqQ, eTok0.</summary>
        public static SequenceNames QueryEpilogue { get; } = new("eBatch", "eSeqQ", "eTok0", "eq0", null, null, null);
    }

    /// <param name="w">The writer.</param>
    /// <param name="packed">The condition for the packed layout.</param>
    /// <param name="n">The batch index it reads and the variables it declares.</param>
    internal static void EmitSequence(CodeWriter w, string packed, SequenceNames n)
    {
        var sides = new List<(string Seq, string Tok0, string Start, string Lengths, string Cu)>();
        if (n.SeqQ is not null)
            sides.Add((n.SeqQ, n.QTok0!, n.Q0!, "p.SeqQ", "p.CuQ"));
        if (n.SeqK is not null)
            sides.Add((n.SeqK, n.KTok0!, n.K0!, "p.SeqK", "p.CuK"));
        foreach (var s in sides)
            w.Line($"int {s.Seq} = {s.Lengths};");
        foreach (var s in sides)
            w.Line($"long {s.Tok0} = (long){n.Batch} * {s.Lengths};");
        w.Line($"if ({packed})");
        w.Open();
        foreach (var s in sides)
            w.Line($"int {s.Start} = PtxOps.LoadInt({s.Cu} + (ulong)({n.Batch} * 4));");
        foreach (var s in sides)
            w.Line($"{s.Seq} = PtxOps.LoadInt({s.Cu} + (ulong)({n.Batch} * 4 + 4)) - {s.Start};");
        foreach (var s in sides)
            w.Line($"{s.Tok0} = {s.Start};");
        w.Close();
    }
}
