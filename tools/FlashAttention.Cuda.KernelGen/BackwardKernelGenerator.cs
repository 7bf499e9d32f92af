namespace FlashAttention.Cuda.KernelGen;

/// <summary>
/// One tile configuration of the dK/dV backward kernel: a block owns <see cref="BlockN"/> keys of one key/value head
/// (16 per warp) and sweeps the query tiles of every query head of its group.
/// </summary>
/// <param name="HeadDim">The head dim the kernel computes with (a multiple of 32); smaller ones run on it zero-filled.</param>
/// <param name="Warps">Warps per block; each owns 16 keys.</param>
/// <param name="BlockM">Queries per tile (64 or 128).</param>
/// <param name="KvInRegisters">Keep the warp's K and V fragments in registers, or re-read them from shared memory.</param>
/// <param name="FusedDq">Also accumulate dQ (dS·K through shared memory, float atomics); otherwise a separate kernel computes dQ.</param>
/// <param name="AtomicWidth">Floats per dQ atomic: 1 (red.f32, any GPU), 2 or 4 (red.v2/v4.f32, sm_90).</param>
/// <param name="Outputs">
/// Which gradients the kernel accumulates: both, or one of dV and dK (head dim 256, where the two accumulators of 16 keys
/// would not fit in the registers together: two passes).
/// </param>
public sealed record BackwardKvConfig(int HeadDim, int Warps, int BlockM, bool KvInRegisters, bool FusedDq, int AtomicWidth = 1, KvOutputs Outputs = KvOutputs.Both)
{
    /// <summary>Keys per block.</summary>
    public int BlockN => 16 * Warps;

    /// <summary>Threads per block.</summary>
    public int Threads => 32 * Warps;

    /// <summary>Row length of the shared-memory tiles.</summary>
    public int LayoutDim => KernelLayout.LayoutDim(HeadDim);

    /// <summary>K and V, two stages of Q, dO, LSE and D, and the dS tile when dQ is fused.</summary>
    public int SharedBytes => 2 * BlockN * LayoutDim * 2 + 2 * (2 * BlockM * LayoutDim * 2 + 2 * BlockM * 4) + (FusedDq ? BlockN * BlockM * 2 : 0);

    /// <summary>The kernel's method name.</summary>
    public string Name => $"DKV_D{HeadDim}_N{BlockN}_M{BlockM}_W{Warps}" + (KvInRegisters ? "_KR" : "") + (FusedDq ? "_AQ" + (AtomicWidth > 1 ? AtomicWidth.ToString() : "") : "")
        + Outputs switch { KvOutputs.DvOnly => "_DV", KvOutputs.DkOnly => "_DK", _ => "" };
}

/// <summary>The gradients a dK/dV kernel produces.</summary>
public enum KvOutputs
{
    /// <summary>dK and dV.</summary>
    Both,

    /// <summary>dV only (Sᵀ, Pᵀ, dV).</summary>
    DvOnly,

    /// <summary>dK only (Sᵀ, Pᵀ, dPᵀ, dSᵀ, dK).</summary>
    DkOnly,
}

/// <summary>
/// One tile configuration of the dQ backward kernel (the deterministic path): a block owns a tile of query rows, as in
/// the forward pass, and streams key/value tiles, accumulating dQ in registers.
/// </summary>
/// <param name="HeadDim">The head dim the kernel computes with (a multiple of 32); smaller ones run on it zero-filled.</param>
/// <param name="BlockN">Keys per tile (a multiple of 16).</param>
/// <param name="Warps">Warps per block.</param>
/// <param name="MTiles">16-row m-tiles per warp.</param>
/// <param name="FragmentsInRegisters">Keep Q and dO fragments in registers, or re-read them from shared memory.</param>
public sealed record BackwardDqConfig(int HeadDim, int BlockN, int Warps, int MTiles, bool FragmentsInRegisters)
{
    /// <summary>Query rows per block.</summary>
    public int BlockM => Warps * MTiles * 16;

    /// <summary>Threads per block.</summary>
    public int Threads => Warps * 32;

    /// <summary>Row length of the shared-memory tiles.</summary>
    public int LayoutDim => KernelLayout.LayoutDim(HeadDim);

    /// <summary>Q and dO tiles, two stages each of K and V.</summary>
    public int SharedBytes => (2 * BlockM + 4 * BlockN) * LayoutDim * 2;

    /// <summary>The kernel's method name.</summary>
    public string Name => $"DQ_D{HeadDim}_M{BlockM}_N{BlockN}_W{Warps}" + (FragmentsInRegisters ? "" : "_QS");
}

/// <summary>
/// One tile configuration of the returned-softmax kernel: after the forward pass, a block owns a tile of query rows,
/// recomputes S = Q·Kᵀ tile by tile and writes P = exp(S − LSE) (float32, the dropout mask in the sign bit).
/// </summary>
/// <param name="HeadDim">The head dim the kernel computes with.</param>
/// <param name="BlockN">Keys per tile.</param>
/// <param name="Warps">Warps per block.</param>
/// <param name="MTiles">16-row m-tiles per warp.</param>
public sealed record SoftmaxConfig(int HeadDim, int BlockN, int Warps, int MTiles)
{
    /// <summary>Query rows per block.</summary>
    public int BlockM => Warps * MTiles * 16;

    /// <summary>Threads per block.</summary>
    public int Threads => Warps * 32;

    /// <summary>Row length of the shared-memory tiles.</summary>
    public int LayoutDim => KernelLayout.LayoutDim(HeadDim);

    /// <summary>The Q tile and two stages of K.</summary>
    public int SharedBytes => (BlockM + 2 * BlockN) * LayoutDim * 2;

    /// <summary>The kernel's method name.</summary>
    public string Name => $"P_D{HeadDim}_M{BlockM}_N{BlockN}_W{Warps}";

    /// <summary>As a dQ configuration (the two share their code for S = Q·Kᵀ).</summary>
    internal BackwardDqConfig AsDq => new(HeadDim, BlockN, Warps, MTiles, false);
}

/// <summary>
/// Writes the backward kernels as C# for ILGPU, fully unrolled like the forward ones (register tiles must be scalars).
/// dK/dV kernel, per query tile: Sᵀ = K·Qᵀ, Pᵀ = exp2(Sᵀ·scale·log2e − LSE₂), dV += Pᵀ·dO, dPᵀ = V·dOᵀ,
/// dSᵀ = Pᵀ∘(dPᵀ − D), dK += dSᵀ·Q, and with fused dQ: dSᵀ to shared memory, dQ += dS·K by float atomics. The warp
/// owns its keys (rows of the transposed tiles), so Pᵀ and dSᵀ go from accumulators straight into A fragments.
/// dQ kernel, per key tile: S = Q·Kᵀ, P, dP = dO·Vᵀ, dS, dQ += dS·K.
/// </summary>
public static partial class BackwardKernelGenerator
{
    /// <summary>The dK/dV configurations compiled into the backend (the default of each head dim first).</summary>
    public static IReadOnlyList<BackwardKvConfig> KvConfigs { get; } =
    [
        new(32, 4, 64, true, false),
        new(96, 4, 64, false, false),
        new(256, 4, 64, false, false, Outputs: KvOutputs.DvOnly),
        new(256, 4, 32, false, false, Outputs: KvOutputs.DkOnly),
        new(64, 4, 64, true, true),
        new(64, 4, 64, true, false),
        new(128, 4, 64, false, true),
        new(128, 4, 64, false, false),
        // Alternatives measured against the defaults (docs/gpu-notes.md).
        new(64, 8, 64, true, true),
        new(64, 4, 128, false, true),
        new(128, 8, 64, false, true),
        new(64, 4, 64, true, true, 2),
        new(64, 4, 64, true, true, 4),
        new(64, 8, 64, true, true, 4),
        new(128, 4, 64, false, true, 2),
        new(128, 4, 64, false, true, 4),
        new(128, 8, 64, false, true, 4),
        new(64, 8, 64, true, false),
        new(128, 8, 64, false, false),
    ];

    /// <summary>The dQ configurations (deterministic path).</summary>
    public static IReadOnlyList<BackwardDqConfig> DqConfigs { get; } =
    [
        new(32, 32, 4, 2, true),
        new(96, 32, 4, 2, false),
        new(256, 32, 4, 1, false),
        new(64, 32, 4, 2, true),
        new(128, 32, 4, 2, false),
        new(64, 64, 4, 2, false),
        new(128, 64, 4, 1, false),
        new(64, 32, 4, 2, false),
        // One m-tile per warp: half the accumulators, for the feature kernels' register budget (docs/gpu-notes.md).
        new(64, 32, 4, 1, true),
        new(96, 32, 4, 1, false),
        new(128, 32, 4, 1, false),
        new(256, 16, 4, 1, false),
        // 16-key tiles with two m-tiles per warp: S and dP take half the registers (candidates, docs/gpu-notes.md).
        new(128, 16, 4, 2, false),
        new(64, 16, 4, 2, true),
    ];

    private static readonly string[] Comp = ["X", "Y", "Z", "W"];

    /// <summary>The returned-softmax configurations, one per head dim.</summary>
    public static IReadOnlyList<SoftmaxConfig> SoftmaxConfigs { get; } =
    [
        new(32, 64, 4, 2),
        new(64, 64, 4, 2),
        new(96, 64, 4, 2),
        new(128, 64, 4, 2),
        new(256, 32, 4, 1),
    ];

    /// <summary>The whole generated source file.</summary>
    public static string Generate() => Generate(KvConfigs, KvGridConfigs, DqConfigs, SoftmaxConfigs);

    /// <summary>The generated source file for the given configurations.</summary>
    public static string Generate(IEnumerable<BackwardKvConfig> kvConfigs, IEnumerable<BackwardKvGridConfig> kvGridConfigs, IEnumerable<BackwardDqConfig> dqConfigs, IEnumerable<SoftmaxConfig> softmaxConfigs)
    {
        var w = new CodeWriter();
        w.Line("// <auto-generated>");
        w.Line("// Written by tools/FlashAttention.Cuda.KernelGen (BackwardKernelGenerator). Do not edit: change the generator and run");
        w.Line("//   dotnet run --project tools/FlashAttention.Cuda.KernelGen");
        w.Line("// </auto-generated>");
        w.Line("using FlashAttention.Cuda.Ptx;");
        w.Line("using ILGPU;");
        w.Line();
        w.Line("namespace FlashAttention.Cuda.Kernels;");
        w.Line();
        w.Line("internal static partial class BackwardKernels");
        w.Open();
        var kv = kvConfigs.ToList();
        var kvGrid = kvGridConfigs.ToList();
        var dq = dqConfigs.ToList();
        w.Line("/// <summary>Every generated dK/dV kernel with its tile shape.</summary>");
        w.Line("public static BackwardVariant[] KvVariants { get; } =");
        w.Line("[");
        foreach (var c in kv)
            w.Line($"    new(\"{c.Name}\", HeadDim: {c.HeadDim}, BlockM: {c.BlockM}, BlockN: {c.BlockN}, Threads: {c.Threads}, SharedBytes: {c.SharedBytes}, FusedDq: {(c.FusedDq ? "true" : "false")}, Sm90: {(c.AtomicWidth > 1 ? "true" : "false")}, Outputs: KvOutputs.{c.Outputs}),");
        foreach (var c in kvGrid)
            w.Line($"    new(\"{c.Name}\", HeadDim: {c.HeadDim}, BlockM: {c.BlockM}, BlockN: {c.BlockN}, Threads: {c.Threads}, SharedBytes: {c.SharedBytes}, FusedDq: false, Sm90: false, Outputs: KvOutputs.Both),");
        w.Line("];");
        w.Line();
        w.Line("/// <summary>Every generated dQ kernel with its tile shape.</summary>");
        w.Line("public static BackwardVariant[] DqVariants { get; } =");
        w.Line("[");
        foreach (var c in dq)
            w.Line($"    new(\"{c.Name}\", HeadDim: {c.HeadDim}, BlockM: {c.BlockM}, BlockN: {c.BlockN}, Threads: {c.Threads}, SharedBytes: {c.SharedBytes}, FusedDq: false, Sm90: false, Outputs: KvOutputs.Both),");
        w.Line("];");
        var sm = softmaxConfigs.ToList();
        w.Line();
        w.Line("/// <summary>Every generated returned-softmax kernel with its tile shape.</summary>");
        w.Line("public static BackwardVariant[] SoftmaxVariants { get; } =");
        w.Line("[");
        foreach (var c in sm)
            w.Line($"    new(\"{c.Name}\", HeadDim: {c.HeadDim}, BlockM: {c.BlockM}, BlockN: {c.BlockN}, Threads: {c.Threads}, SharedBytes: {c.SharedBytes}, FusedDq: false, Sm90: false, Outputs: KvOutputs.Both),");
        w.Line("];");
        int MinDim(int headDim, IEnumerable<int> all)
        {
            var dims = all.Distinct().Order().ToList();
            int index = dims.IndexOf(headDim);
            return index == 0 ? 8 : dims[index - 1] + 8;
        }
        var kvDims = kv.Select(x => x.HeadDim).Concat(kvGrid.Select(x => x.HeadDim)).ToList();
        foreach (var c in kv)
        {
            w.Line();
            KvKernel(w, c, MinDim(c.HeadDim, kvDims));
        }
        foreach (var c in kvGrid)
        {
            w.Line();
            KvGridKernel(w, c, MinDim(c.HeadDim, kvDims));
        }
        foreach (var c in dq)
        {
            w.Line();
            DqKernel(w, c, MinDim(c.HeadDim, dq.Select(x => x.HeadDim)));
        }
        foreach (var c in sm)
        {
            w.Line();
            SoftmaxKernel(w, c);
        }
        w.Close();
        return w.ToString();
    }

    // ------------------------------------------------------------------------------------------------------------
    // dK / dV (and optionally dQ by atomics)
    // ------------------------------------------------------------------------------------------------------------

    private static void KvKernel(CodeWriter w, BackwardKvConfig c, int minDim)
    {
        if (c.HeadDim % 32 != 0 || c.HeadDim > 256 || (c.BlockM != 32 && c.BlockM != 64 && c.BlockM != 128) || (c.FusedDq && (c.Outputs != KvOutputs.Both || c.BlockM == 32)))
            throw new ArgumentException($"Unsupported configuration {c}.");
        int d = c.HeadDim, layout = c.LayoutDim, rb = layout * 2, kSteps = d / 16, dTiles = d / 8, nTiles = c.BlockM / 8, qSteps = c.BlockM / 16;
        int chunksLog2 = (int)Math.Log2(layout / 8);
        bool doDv = c.Outputs != KvOutputs.DkOnly, doDk = c.Outputs != KvOutputs.DvOnly;
        int sRowBytes = c.BlockM * 2;
        // dQ through shared memory: the BlockM × D tile split among the warps by 16-row m-tiles, then by column halves.
        int rowTiles = c.BlockM / 16;
        int dqMTiles = Math.Max(1, rowTiles / c.Warps), dqSplit = Math.Max(1, c.Warps / rowTiles), dqDTiles = dTiles / dqSplit;
        if (c.FusedDq && (rowTiles % Math.Min(rowTiles, c.Warps) != 0 || dTiles % dqSplit != 0 || dqDTiles % 2 != 0))
            throw new ArgumentException($"dQ tile of {c} does not divide among the warps.");

        w.Line("/// <summary>");
        w.Line($"/// Backward ({(doDv && doDk ? "dK and dV" : doDv ? "dV only" : "dK only")}), head dim ≤ {d}: a block of {c.Threads} threads owns {c.BlockN} keys ({c.Warps} warps × 16) of one key/value head and");
        w.Line($"/// sweeps query tiles of {c.BlockM} rows of every head in its group (double-buffered cp.async): dV and dK accumulate in registers.");
        w.Line(c.FusedDq
            ? "/// dQ contributions go through shared memory (dSᵀ) into float atomics on the dQ accumulator."
            : "/// dQ is left to the dQ kernel.");
        w.Line($"/// K/V fragments: {(c.KvInRegisters ? "in registers" : "re-read from shared memory")}.");
        w.Line("/// </summary>");
        w.Line($"public static void {c.Name}<TKind, TMode, TFeatures, TScore, TMask, TLayout>(BackwardParams p, ModPair<TScore, TMask> mods) " +
               "where TKind : struct, IElementKind where TMode : struct, IScoreMode where TFeatures : struct, IFeatures " +
               "where TScore : struct, ICudaScoreMod where TMask : struct, ICudaMaskMod where TLayout : struct, ISequenceLayout");
        w.Open();
        w.Line($"const int RowBytes = {rb}, BlockM = {c.BlockM}, BlockN = {c.BlockN};");
        if (c.FusedDq)
            w.Line($"const int SRowBytes = {sRowBytes};");
        w.Line("const int KvBytes = BlockN * RowBytes, QBytes = BlockM * RowBytes, VecBytes = BlockM * 4;");
        w.Line("var kind = default(TKind);");
        w.Line("var mode = default(TMode);");
        w.Line("var features = default(TFeatures);");
        w.Line("var score = mods.Score;");
        w.Line("var mask = mods.Mask;");
        w.Line("var layout = default(TLayout);");
        w.Line("int tid = Group.IdxX;");
        w.Line("int lane = tid & 31;");
        w.Line("int warp = tid >> 5;");
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
        w.Line("uint sS = sD + 2 * VecBytes;");
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
        EmitQueryTileLoad(w, c, "0", "0u");
        w.Close();
        w.Line("PtxOps.CommitGroup();");
        w.Line();
        w.Line("// Per-lane key rows (g and g + 8 of the warp's 16): the queries each may see, [qlo, qhi]; a key past the end");
        w.Line("// or hidden by the padding mask sees none.");
        w.Line("int shift = seqK - seqQ;");
        for (int r = 0; r < 2; r++)
            BackwardTransposedTile.EmitKeyRowBounds(w, TransposedTileNames.SingleTile, 0, r, $"kStart + warp * 16 + g + {8 * r}");
        for (int dt = 0; dt < dTiles; dt++)
        {
            if (doDk)
                w.Line($"Float4 dk_{dt} = default;");
            if (doDv)
                w.Line($"Float4 dv_{dt} = default;");
        }
        w.Line("uint kFrag = sK + (uint)((warp * 16 + (lane & 15)) * RowBytes);");
        w.Line("uint vFrag = sV + (uint)((warp * 16 + (lane & 15)) * RowBytes);");
        w.Line("int bRow = (lane & 7) * RowBytes;");
        w.Line("int quarter = lane >> 3;");
        w.Line("int tRow = (lane & 15) * RowBytes;");
        if (c.KvInRegisters)
        {
            w.Line("PtxOps.WaitGroup1();");
            w.Line("Group.Barrier();");
            w.Line("// A fragments of the warp's 16 keys, for Sᵀ = K·Qᵀ and dPᵀ = V·dOᵀ.");
            for (int ks = 0; ks < kSteps; ks++)
            {
                w.Line($"Uint4 ka_{ks} = PtxOps.LdMatrixX4(kFrag + (uint)((({2 * ks} + half) ^ swz) << 4));");
                w.Line($"Uint4 va_{ks} = PtxOps.LdMatrixX4(vFrag + (uint)((({2 * ks} + half) ^ swz) << 4));");
            }
        }
        if (c.FusedDq)
        {
            w.Line($"// dQ: this warp's rows (m-tiles from {dqMTiles}·(warp / {dqSplit})) and columns (d-tiles from {dqDTiles}·(warp % {dqSplit})).");
            w.Line($"int dqRow0 = (warp / {dqSplit}) * {dqMTiles * 16};");
            w.Line($"int dqCol0 = (warp % {dqSplit}) * {dqDTiles * 8};");
            w.Line("int sRowA = ((lane & 7) + 8 * half) * SRowBytes;");
            w.Line("int sChunk = (lane >> 3) & 1;");
        }
        w.Line("float dropScale = p.DropScale;");
        w.Line();
        w.Line("for (int u = 0; u < tiles; u++)");
        w.Open();
        w.Line("uint stage = (uint)(u & 1);");
        w.Line("PtxOps.WaitGroup0();");
        w.Line("Group.Barrier();");
        w.Line("if (u + 1 < tiles)");
        w.Open();
        EmitQueryTileLoad(w, c, "u + 1", "stage ^ 1u");
        w.Close();
        w.Line("PtxOps.CommitGroup();");
        w.Line("int head = kvHead * p.GroupSize + u / mCount;");
        w.Line("int qStart = (mFirst + u % mCount) * BlockM;");
        w.Line("int qEnd = qStart + BlockM < seqQ ? qStart + BlockM : seqQ;");
        w.Line("// The caller's mask may hide the whole tile (block-uniform): the pipeline has moved on, nothing to compute.");
        w.Line("BlockCoverage coverage = mask.Enabled ? mask.Classify(new TileBounds(batch, head, qStart, qEnd, kStart, kEnd, seqQ, seqK)) : BlockCoverage.Full;");
        w.Line("if (mask.Enabled && coverage == BlockCoverage.Empty)");
        w.Line("    continue;");
        w.Line("uint qTile = sQ + stage * QBytes;");
        w.Line("uint doTile = sDO + stage * QBytes;");
        w.Line("uint lTile = sL + stage * VecBytes;");
        w.Line("uint dTile = sD + stage * VecBytes;");
        w.Line();
        w.Line("// Sᵀ = K·Qᵀ (rows: the warp's keys; columns: the tile's queries).");
        EmitTransposedProduct(w, c, "s", "ka", "kFrag", "qTile");
        w.Line();
        w.Line("// Score mode (softcap's tanh) and its derivative, base-2 logits (ALiBi, the caller's score modifier and its");
        w.Line("// derivative), then Pᵀ = 2^(logit − LSE₂) with the mask applied to P.");
        w.Line("float prep = p.PrepScale;");
        w.Line("float sl2 = p.ScaleLog2;");
        w.Line("bool chain = mode.HasDerivative || score.Enabled;");
        w.Line("float alibiSlope = features.Alibi ? PtxOps.LoadFloat(p.Alibi + (ulong)(((long)batch * p.Heads + head) * 4)) : 0f;");
        w.Line("int col0 = qStart + 2 * t;");
        var names = TransposedTileNames.SingleTile;
        BackwardTransposedTile.EmitProbabilities(w, names, 1, nTiles, "");
        w.Line();
        w.Line("// Dropout: the keep bit of (key, query) is bit key mod 4 of Philox(counter (key/4, query, b·H + h, low32(offset))),");
        w.Line("// gathered into one bit per element (element i of the tile: bit i mod 32 of word i / 32) until dS needs it again.");
        w.Line("uint dropHead = (uint)(batch * p.Heads + head);");
        BackwardTransposedTile.EmitDropoutBits(w, names, 1, nTiles);
        string Kept(int nt, int e) => BackwardTransposedTile.Kept(names, 0, nt, e);
        if (doDv)
        {
            w.Line();
            w.Line("// dV += Pᵀ·dO with the dropped probabilities (1/(1 − p) is applied once, at the end).");
            for (int kk = 0; kk < qSteps; kk++)
            {
                int j0 = 2 * kk, j1 = 2 * kk + 1;
                w.Line($"uint pa_{kk}_0 = kind.Pack({Kept(j0, 0)}, {Kept(j0, 1)});");
                w.Line($"uint pa_{kk}_1 = kind.Pack({Kept(j0, 2)}, {Kept(j0, 3)});");
                w.Line($"uint pa_{kk}_2 = kind.Pack({Kept(j1, 0)}, {Kept(j1, 1)});");
                w.Line($"uint pa_{kk}_3 = kind.Pack({Kept(j1, 2)}, {Kept(j1, 3)});");
            }
            EmitAccumulateTransposedB(w, dTiles, qSteps, "dv", "pa", "doTile", "tRow");
        }
        w.Line();
        if (doDk)
        {
            w.Line("// dPᵀ = V·dOᵀ.");
            EmitTransposedProduct(w, c, "dp", "va", "vFrag", "doTile");
            w.Line();
            w.Line("// dSᵀ = Pᵀ∘(dPᵀ∘Z − D)·d(prepared)/d(score), Z the dropout factor; packed as A fragments for dK += dSᵀ·Q.");
            BackwardTransposedTile.EmitScoreGradient(w, names, 1, nTiles, "");
            for (int kk = 0; kk < qSteps; kk++)
            {
                int j0 = 2 * kk, j1 = 2 * kk + 1;
                w.Line($"uint da_{kk}_0 = kind.Pack(dp_{j0}.X, dp_{j0}.Y);");
                w.Line($"uint da_{kk}_1 = kind.Pack(dp_{j0}.Z, dp_{j0}.W);");
                w.Line($"uint da_{kk}_2 = kind.Pack(dp_{j1}.X, dp_{j1}.Y);");
                w.Line($"uint da_{kk}_3 = kind.Pack(dp_{j1}.Z, dp_{j1}.W);");
            }
            EmitAccumulateTransposedB(w, dTiles, qSteps, "dk", "da", "qTile", "tRow");
        }
        if (c.FusedDq)
        {
            w.Line();
            w.Line("// dQ += dS·K: dSᵀ to shared memory (row = key, 16-byte chunk = 8 queries, swizzled), then each warp takes its");
            w.Line("// rows and columns of the tile and adds them to the float32 accumulator with atomics.");
            w.Line("uint sKeyRow0 = sS + (uint)((warp * 16 + g) * SRowBytes + 4 * t);");
            w.Line("uint sKeyRow1 = sKeyRow0 + 8 * SRowBytes;");
            for (int kk = 0; kk < qSteps; kk++)
                for (int jj = 0; jj < 2; jj++)
                {
                    int nt = 2 * kk + jj;
                    w.Line($"PtxOps.StoreShared(sKeyRow0 + (uint)((({nt} ^ g) & {sRowBytes / 16 - 1}) << 4), da_{kk}_{2 * jj});");
                    w.Line($"PtxOps.StoreShared(sKeyRow1 + (uint)((({nt} ^ g) & {sRowBytes / 16 - 1}) << 4), da_{kk}_{2 * jj + 1});");
                }
            w.Line("Group.Barrier();");
            for (int mt = 0; mt < dqMTiles; mt++)
                for (int ldt = 0; ldt < dqDTiles; ldt++)
                    w.Line($"Float4 dq_{mt}_{ldt} = default;");
            int keySteps = c.BlockN / 16;
            for (int ks = 0; ks < keySteps; ks++)
            {
                for (int mt = 0; mt < dqMTiles; mt++)
                    w.Line($"Uint4 sa_{ks}_{mt} = PtxOps.LdMatrixX4Trans(sS + (uint)(sRowA + {ks * 16 * sRowBytes} + ((((dqRow0 >> 3) + {2 * mt} + sChunk) ^ swz) << 4)));");
                w.Line($"uint kbOff{ks} = sK + (uint)(tRow + {ks * 16 * rb});");
                for (int u = 0; u < dqDTiles / 2; u++)
                {
                    w.Line($"Uint4 kb_{ks}_{u} = PtxOps.LdMatrixX4Trans(kbOff{ks} + (uint)(((((dqCol0 >> 3) + {2 * u}) + half) ^ swz) << 4));");
                    for (int mt = 0; mt < dqMTiles; mt++)
                    {
                        string a = $"sa_{ks}_{mt}.X, sa_{ks}_{mt}.Y, sa_{ks}_{mt}.Z, sa_{ks}_{mt}.W";
                        w.Line($"dq_{mt}_{2 * u} = kind.Mma(dq_{mt}_{2 * u}, {a}, kb_{ks}_{u}.X, kb_{ks}_{u}.Y);");
                        w.Line($"dq_{mt}_{2 * u + 1} = kind.Mma(dq_{mt}_{2 * u + 1}, {a}, kb_{ks}_{u}.Z, kb_{ks}_{u}.W);");
                    }
                }
            }
            w.Line("long dqHeadStride = (long)p.Heads * p.HeadDim;");
            if (c.AtomicWidth == 4)
            {
                w.Line("// Four neighbouring columns per atomic: lanes t and t ^ 1 swap half of their pairs, the even lane then owns");
                w.Line("// row g and the odd one row g + 8, columns 4·(t / 2) .. + 3 of each 8-column tile.");
                w.Line("bool oddLane = (t & 1) != 0;");
                for (int mt = 0; mt < dqMTiles; mt++)
                {
                    w.Line($"int dqRow_{mt} = qStart + dqRow0 + {mt * 16} + g + (oddLane ? 8 : 0);");
                    w.Line($"ulong dqAddr_{mt} = p.DqAccum + (ulong)(((qTok0 + dqRow_{mt}) * dqHeadStride + (long)head * p.HeadDim + dqCol0 + 4 * (t >> 1)) * 4);");
                    for (int ldt = 0; ldt < dqDTiles; ldt++)
                    {
                        string q = $"dq_{mt}_{ldt}";
                        w.Line($"float xa_{mt}_{ldt} = PtxOps.ShuffleXor(oddLane ? {q}.X : {q}.Z, 1);");
                        w.Line($"float xb_{mt}_{ldt} = PtxOps.ShuffleXor(oddLane ? {q}.Y : {q}.W, 1);");
                    }
                    w.Line($"if (dqRow_{mt} < seqQ)");
                    w.Open();
                    for (int ldt = 0; ldt < dqDTiles; ldt++)
                    {
                        string q = $"dq_{mt}_{ldt}";
                        w.Line($"if (dqCol0 + {ldt * 8} < p.HeadDim) PtxOps.AtomicAdd4(dqAddr_{mt} + {ldt * 32}ul, oddLane ? xa_{mt}_{ldt} : {q}.X, oddLane ? xb_{mt}_{ldt} : {q}.Y, oddLane ? {q}.Z : xa_{mt}_{ldt}, oddLane ? {q}.W : xb_{mt}_{ldt});");
                    }
                    w.Close();
                }
            }
            else
            {
                for (int mt = 0; mt < dqMTiles; mt++)
                    for (int r = 0; r < 2; r++)
                    {
                        w.Line($"int dqRow_{mt}_{r} = qStart + dqRow0 + {mt * 16 + 8 * r} + g;");
                        w.Line($"if (dqRow_{mt}_{r} < seqQ)");
                        w.Open();
                        w.Line($"ulong dqAddr = p.DqAccum + (ulong)(((qTok0 + dqRow_{mt}_{r}) * dqHeadStride + (long)head * p.HeadDim + dqCol0 + 2 * t) * 4);");
                        for (int ldt = 0; ldt < dqDTiles; ldt++)
                        {
                            if (c.AtomicWidth == 2)
                            {
                                w.Line($"if (dqCol0 + {ldt * 8} < p.HeadDim) PtxOps.AtomicAdd2(dqAddr + {ldt * 32}ul, dq_{mt}_{ldt}.{Comp[2 * r]}, dq_{mt}_{ldt}.{Comp[2 * r + 1]});");
                            }
                            else
                            {
                                w.Line($"if (dqCol0 + {ldt * 8} < p.HeadDim)");
                                w.Open();
                                w.Line($"PtxOps.AtomicAdd(dqAddr + {ldt * 32}ul, dq_{mt}_{ldt}.{Comp[2 * r]});");
                                w.Line($"PtxOps.AtomicAdd(dqAddr + {ldt * 32 + 4}ul, dq_{mt}_{ldt}.{Comp[2 * r + 1]});");
                                w.Close();
                            }
                        }
                        w.Close();
                    }
            }
        }
        w.Close();
        w.Line();
        w.Line("// Epilogue: dK = scale·Σ dSᵀ·Q, dV = Σ Pᵀ·dO/(1 − p), stored for the keys that exist.");
        w.Line("PtxOps.WaitGroup0();");
        if (doDk)
            w.Line("float kScale = p.Scale;");
        for (int r = 0; r < 2; r++)
        {
            w.Line($"if (key_{r} < seqK)");
            w.Open();
            w.Line($"long rowElement_{r} = (kTok0 + key_{r}) * p.KvHeads * p.HeadDim + (long)kvHead * p.HeadDim + 2 * t;");
            foreach (var (on, name, acc, factor) in new[] { (doDk, "DK", "dk", "kScale"), (doDv, "DV", "dv", "dropScale") })
            {
                if (!on)
                    continue;
                w.Line($"if (p.{name[0]}{char.ToLowerInvariant(name[1])}Float != 0)");
                w.Open();
                for (int dt = 0; dt < dTiles; dt++)
                {
                    string a = Comp[2 * r], b = Comp[2 * r + 1];
                    string guard = dt * 8 < minDim ? "" : $"if ({dt * 8} < p.HeadDim) ";
                    w.Line($"{guard}{{ PtxOps.StoreFloat(p.{name} + (ulong)((rowElement_{r} + {dt * 8}) * 4), {acc}_{dt}.{a} * {factor}); PtxOps.StoreFloat(p.{name} + (ulong)((rowElement_{r} + {dt * 8}) * 4 + 4), {acc}_{dt}.{b} * {factor}); }}");
                }
                w.Close();
                w.Line("else");
                w.Open();
                for (int dt = 0; dt < dTiles; dt++)
                {
                    string a = Comp[2 * r], b = Comp[2 * r + 1];
                    string guard = dt * 8 < minDim ? "" : $"if ({dt * 8} < p.HeadDim) ";
                    w.Line($"{guard}PtxOps.StoreWord(p.{name} + (ulong)((rowElement_{r} + {dt * 8}) * 2), kind.Pack({acc}_{dt}.{a} * {factor}, {acc}_{dt}.{b} * {factor}));");
                }
                w.Close();
            }
            w.Close();
        }
        w.Close();
    }

    /// <summary>Copies query tile <paramref name="index"/> (of the flattened head × query-block sequence) into a stage: Q, dO, LSE₂ and D.</summary>
    private static void EmitQueryTileLoad(CodeWriter w, BackwardKvConfig c, string index, string stage) =>
        EmitQueryTileLoad(w, c.Threads, c.LayoutDim, c.BlockM, index, stage);

    /// <summary>The query-tile copy for a block of <paramref name="threads"/> threads and <paramref name="blockM"/>-row tiles.</summary>
    private static void EmitQueryTileLoad(CodeWriter w, int threads, int layoutDim, int blockM, string index, string stage)
    {
        w.Line($"int lHead = kvHead * p.GroupSize + ({index}) / mCount;");
        w.Line($"int lStart = (mFirst + ({index}) % mCount) * BlockM;");
        w.Line("long lRow = (qTok0 + lStart) * qRowStride + (long)lHead * headBytes;");
        w.Line($"uint lStage = {stage};");
        w.Open();
        KernelSnippets.Load(w, threads, layoutDim, "sQ + lStage * QBytes", "p.Q + (ulong)lRow", "ldQ", "qRowStride", blockM, "seqQ - lStart");
        w.Close();
        w.Open();
        KernelSnippets.Load(w, threads, layoutDim, "sDO + lStage * QBytes", "p.DO + (ulong)lRow", "ldQ", "qRowStride", blockM, "seqQ - lStart");
        w.Close();
        int vecChunks = blockM / 4;
        w.Line($"ulong lVec = (ulong)((((long)batch * p.Heads + lHead) * p.SeqQPad + lStart) * 4);");
        w.Line($"if (tid < {vecChunks})");
        w.Line($"    PtxOps.CopyAsync16(sL + lStage * VecBytes + (uint)(tid * 16), p.Lse2 + lVec + (ulong)(tid * 16));");
        w.Line($"else if (tid < {2 * vecChunks})");
        w.Line($"    PtxOps.CopyAsync16(sD + lStage * VecBytes + (uint)((tid - {vecChunks}) * 16), p.RowDot + lVec + (ulong)((tid - {vecChunks}) * 16));");
        if (threads < 2 * vecChunks)
            throw new ArgumentException($"Too few threads ({threads}) to copy the LSE and D rows of {blockM} queries.");
    }

    /// <summary>
    /// acc_nt = A·Bᵀ over the head dim for the warp's 16 rows: A fragments from registers (<paramref name="aName"/>_ks) or
    /// re-read from shared memory at <paramref name="aFrag"/>; B rows (the query tile) by ldmatrix, one x4 per n-tile and
    /// pair of k-steps.
    /// </summary>
    private static void EmitTransposedProduct(CodeWriter w, BackwardKvConfig c, string acc, string aName, string aFrag, string tile)
    {
        int d = c.HeadDim, rb = c.LayoutDim * 2, kSteps = d / 16, nTiles = c.BlockM / 8;
        for (int nt = 0; nt < nTiles; nt++)
            w.Line($"Float4 {acc}_{nt} = default;");
        for (int pr = 0; pr < kSteps / 2; pr++)
        {
            int k0 = 2 * pr, k1 = 2 * pr + 1;
            string a0 = $"{aName}_{k0}", a1 = $"{aName}_{k1}";
            if (!c.KvInRegisters)
            {
                a0 = $"{aName}{acc}_{k0}";
                a1 = $"{aName}{acc}_{k1}";
                w.Line($"Uint4 {a0} = PtxOps.LdMatrixX4({aFrag} + (uint)((({2 * k0} + half) ^ swz) << 4));");
                w.Line($"Uint4 {a1} = PtxOps.LdMatrixX4({aFrag} + (uint)((({2 * k1} + half) ^ swz) << 4));");
            }
            w.Line($"uint {acc}Off{pr} = {tile} + (uint)(bRow + ((({4 * pr} + quarter) ^ swz) << 4));");
            for (int nt = 0; nt < nTiles; nt++)
            {
                w.Line($"Uint4 {acc}b_{pr}_{nt} = PtxOps.LdMatrixX4({acc}Off{pr} + {nt * 8 * rb}u);");
                w.Line($"{acc}_{nt} = kind.Mma({acc}_{nt}, {a0}.X, {a0}.Y, {a0}.Z, {a0}.W, {acc}b_{pr}_{nt}.X, {acc}b_{pr}_{nt}.Y);");
                w.Line($"{acc}_{nt} = kind.Mma({acc}_{nt}, {a1}.X, {a1}.Y, {a1}.Z, {a1}.W, {acc}b_{pr}_{nt}.Z, {acc}b_{pr}_{nt}.W);");
            }
        }
    }

    /// <summary>acc_dt += A·B over the tile's queries: A packed from accumulators (<paramref name="a"/>_kk_0..3), B = rows of <paramref name="tile"/> by ldmatrix.trans.</summary>
    private static void EmitAccumulateTransposedB(CodeWriter w, int dTiles, int qSteps, string acc, string a, string tile, string rowVar)
    {
        for (int kk = 0; kk < qSteps; kk++)
        {
            w.Line($"uint {acc}Off{kk} = {tile} + (uint)({rowVar} + {kk * 16} * RowBytes);");
            for (int u = 0; u < dTiles / 2; u++)
            {
                w.Line($"Uint4 {acc}b_{kk}_{u} = PtxOps.LdMatrixX4Trans({acc}Off{kk} + (uint)((({2 * u} + half) ^ swz) << 4));");
                string av = $"{a}_{kk}_0, {a}_{kk}_1, {a}_{kk}_2, {a}_{kk}_3";
                w.Line($"{acc}_{2 * u} = kind.Mma({acc}_{2 * u}, {av}, {acc}b_{kk}_{u}.X, {acc}b_{kk}_{u}.Y);");
                w.Line($"{acc}_{2 * u + 1} = kind.Mma({acc}_{2 * u + 1}, {av}, {acc}b_{kk}_{u}.Z, {acc}b_{kk}_{u}.W);");
            }
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // dQ (deterministic path)
    // ------------------------------------------------------------------------------------------------------------

    private static void DqKernel(CodeWriter w, BackwardDqConfig c, int minDim)
    {
        if (c.HeadDim % 32 != 0 || c.HeadDim > 256 || c.BlockN % 16 != 0)
            throw new ArgumentException($"Unsupported configuration {c}.");
        int d = c.HeadDim, layout = c.LayoutDim, rb = layout * 2, kSteps = d / 16, nTiles = c.BlockN / 8, dTiles = d / 8;
        int chunksLog2 = (int)Math.Log2(layout / 8);

        w.Line("/// <summary>");
        w.Line($"/// Backward dQ, head dim ≤ {d} (the deterministic path: no atomics): a block of {c.Threads} threads owns {c.BlockM} query rows");
        w.Line($"/// ({c.Warps} warps × {c.MTiles} m-tile(s)) and streams key/value tiles of {c.BlockN}: S = Q·Kᵀ, P = 2^(logit − LSE₂), dP = dO·Vᵀ,");
        w.Line("/// dS = P∘(dP∘Z − D), dQ += dS·K, all in registers; dq = scale·dQ at the end.");
        w.Line($"/// Q/dO fragments: {(c.FragmentsInRegisters ? "loaded once into registers" : "re-read from shared memory")}.");
        w.Line("/// </summary>");
        w.Line($"public static void {c.Name}<TKind, TMode, TFeatures, TScore, TMask, TLayout>(BackwardParams p, ModPair<TScore, TMask> mods) " +
               "where TKind : struct, IElementKind where TMode : struct, IScoreMode where TFeatures : struct, IFeatures " +
               "where TScore : struct, ICudaScoreMod where TMask : struct, ICudaMaskMod where TLayout : struct, ISequenceLayout");
        w.Open();
        w.Line($"const int RowBytes = {rb}, BlockM = {c.BlockM}, BlockN = {c.BlockN};");
        w.Line("const int QBytes = BlockM * RowBytes, KvBytes = BlockN * RowBytes;");
        w.Line("var kind = default(TKind);");
        w.Line("var mode = default(TMode);");
        w.Line("var features = default(TFeatures);");
        w.Line("var score = mods.Score;");
        w.Line("var mask = mods.Mask;");
        w.Line("var layout = default(TLayout);");
        w.Line("int tid = Group.IdxX;");
        w.Line("int lane = tid & 31;");
        w.Line("int warp = tid >> 5;");
        w.Line("int g = lane >> 2;");
        w.Line("int t = lane & 3;");
        w.Line("int swz = lane & 7;");
        w.Line("int half = lane >> 4;");
        w.Line("// Latest (under a causal mask the longest) query blocks first, heads grouped to share L2 (TileMath.GroupedBlock).");
        w.Line("int qBlock = p.GridBlocks - 1 - TileMath.GroupedBlock(Grid.IdxX, p.HeadGroupShift);");
        w.Line("int head = TileMath.GroupedHead(Grid.IdxX, Grid.IdxY, p.HeadGroupShift);");
        w.Line("int batch = Grid.IdxZ;");
        w.Line("int kvHead = head / p.GroupSize;");
        ForwardKernelGenerator.EmitSequence(w, "layout.Packed");
        w.Line("int qStart = qBlock * BlockM;");
        w.Line("if (qStart >= seqQ)");
        w.Line("    return;");
        w.Line("int qRows = seqQ - qStart < BlockM ? seqQ - qStart : BlockM;");
        w.Line("int qEnd = qStart + qRows;");
        w.Line("int nFirst = TileMath.KeyBlockFirst(p.WindowLeft, p.WindowRight, qStart, qEnd, seqQ, seqK, BlockN);");
        w.Line("int nEnd = TileMath.KeyBlockEnd(p.WindowLeft, p.WindowRight, qStart, qEnd, seqQ, seqK, BlockN);");
        w.Line("uint sQ = PtxOps.SharedBase();");
        w.Line("uint sDO = sQ + QBytes;");
        w.Line("uint sK = sDO + QBytes;");
        w.Line("uint sV = sK + 2 * KvBytes;");
        w.Line("int headBytes = p.HeadDim * 2;");
        w.Line("long qRowStride = (long)p.Heads * headBytes;");
        w.Line("long kRowStride = (long)p.KvHeads * headBytes;");
        w.Line("long qOffset = (qTok0 + qStart) * qRowStride + (long)head * headBytes;");
        w.Line("long kOffset = kTok0 * kRowStride + (long)kvHead * headBytes;");
        w.Line("ulong kBase = p.K + (ulong)kOffset;");
        w.Line("ulong vBase = p.V + (ulong)kOffset;");
        w.Line($"const int RowStep = {c.Threads / (layout / 8)};");
        w.Line($"int ldRow = tid >> {chunksLog2};");
        w.Line($"int ldChunk = tid & {layout / 8 - 1};");
        w.Line("bool chunkOk = ldChunk < (p.HeadDim >> 3);");
        w.Line("uint ldShared = (uint)TileMath.SwizzledOffset(ldRow, ldChunk, RowBytes);");
        w.Line("long ldQ = ldRow * qRowStride + (ldChunk << 4);");
        w.Line("long ldKv = ldRow * kRowStride + (ldChunk << 4);");
        w.Line();
        w.Line("// Prologue: the Q and dO tiles, then the first K and V tiles.");
        w.Open();
        KernelSnippets.Load(w, c.Threads, layout, "sQ", "p.Q + (ulong)qOffset", "ldQ", "qRowStride", c.BlockM, "qRows");
        w.Close();
        w.Open();
        KernelSnippets.Load(w, c.Threads, layout, "sDO", "p.DO + (ulong)qOffset", "ldQ", "qRowStride", c.BlockM, "qRows");
        w.Close();
        w.Line("PtxOps.CommitGroup();");
        w.Line("if (nFirst < nEnd)");
        w.Open();
        EmitKvLoad(w, c, "0u", "nFirst");
        w.Close();
        w.Line("PtxOps.CommitGroup();");
        w.Line("PtxOps.WaitGroup1();");
        w.Line("Group.Barrier();");
        w.Line();
        w.Line($"int warpRow = warp * {16 * c.MTiles};");
        w.Line("uint qFrag = sQ + (uint)((warpRow + (lane & 15)) * RowBytes);");
        w.Line("uint doFrag = sDO + (uint)((warpRow + (lane & 15)) * RowBytes);");
        if (c.FragmentsInRegisters)
            for (int mt = 0; mt < c.MTiles; mt++)
                for (int kk = 0; kk < kSteps; kk++)
                {
                    w.Line($"Uint4 q_{mt}_{kk} = PtxOps.LdMatrixX4(qFrag + {mt * 16 * rb}u + (uint)(((({2 * kk}) + half) ^ swz) << 4));");
                    w.Line($"Uint4 o_{mt}_{kk} = PtxOps.LdMatrixX4(doFrag + {mt * 16 * rb}u + (uint)(((({2 * kk}) + half) ^ swz) << 4));");
                }
        w.Line("int bRow = (lane & 7) * RowBytes;");
        w.Line("int quarter = lane >> 3;");
        w.Line("int tRow = (lane & 15) * RowBytes;");
        w.Line("int shift = seqK - seqQ;");
        w.Line("int rowBase = qStart + warpRow + g;");
        w.Line("float alibiSlope = features.Alibi ? PtxOps.LoadFloat(p.Alibi + (ulong)(((long)batch * p.Heads + head) * 4)) : 0f;");
        w.Line("uint dropHead = (uint)(batch * p.Heads + head);");
        w.Line("ulong vecRow = (ulong)((((long)batch * p.Heads + head) * p.SeqQPad + rowBase) * 4);");
        for (int mt = 0; mt < c.MTiles; mt++)
            for (int h = 0; h < 2; h++)
            {
                string r = $"{mt}_{h}";
                w.Line($"float lse_{r} = PtxOps.LoadFloat(p.Lse2 + vecRow + {(mt * 16 + h * 8) * 4}ul);");
                w.Line($"float rd_{r} = PtxOps.LoadFloat(p.RowDot + vecRow + {(mt * 16 + h * 8) * 4}ul);");
            }
        for (int mt = 0; mt < c.MTiles; mt++)
            for (int dt = 0; dt < dTiles; dt++)
                w.Line($"Float4 dq_{mt}_{dt} = default;");
        w.Line();
        w.Line("for (int n = nFirst; n < nEnd; n++)");
        w.Open();
        w.Line("uint stage = (uint)((n - nFirst) & 1);");
        w.Line("uint kTile = sK + stage * KvBytes;");
        w.Line("uint vTile = sV + stage * KvBytes;");
        w.Line("PtxOps.WaitGroup0();");
        w.Line("Group.Barrier();");
        w.Line("if (n + 1 < nEnd)");
        w.Open();
        EmitKvLoad(w, c, "stage ^ 1u", "n + 1");
        w.Close();
        w.Line("PtxOps.CommitGroup();");
        w.Line("BlockCoverage coverage = mask.Enabled ? mask.Classify(new TileBounds(batch, head, qStart, qEnd, n * BlockN, (n + 1) * BlockN < seqK ? (n + 1) * BlockN : seqK, seqQ, seqK)) : BlockCoverage.Full;");
        w.Line("if (mask.Enabled && coverage == BlockCoverage.Empty)");
        w.Line("    continue;");
        w.Line();
        w.Line("// S = Q·Kᵀ and dP = dO·Vᵀ.");
        EmitRowProduct(w, c, "s", "q", "qFrag", "kTile");
        EmitRowProduct(w, c, "dp", "o", "doFrag", "vTile");
        w.Line();
        w.Line("// P = 2^(logit − LSE₂), masked; dS = P∘(dP∘Z − D)·d(logit)/d(score) (softcap, the caller's score modifier).");
        w.Line("float prep = p.PrepScale;");
        w.Line("float sl2 = p.ScaleLog2;");
        w.Line("bool chain = mode.HasDerivative || score.Enabled;");
        w.Line("int col = n * BlockN + 2 * t;");
        for (int mt = 0; mt < c.MTiles; mt++)
            for (int j = 0; j < nTiles; j++)
                for (int e = 0; e < 4; e++)
                {
                    string x = $"s_{mt}_{j}.{Comp[e]}";
                    string r = $"{mt}_{e / 2}";
                    string cc = $"col + {j * 8 + (e & 1)}";
                    string v = $"sp_{mt}_{j}_{e}";
                    w.Line($"float {v} = mode.Prepare({x}, prep);");
                    w.Line($"float dd_{mt}_{j}_{e} = mode.Derivative({v});");
                    w.Line($"{v} *= sl2;");
                    w.Line($"if (features.Alibi) {v} -= alibiSlope * (float)AbsDistance(rowBase + {mt * 16 + (e / 2) * 8} + shift, {cc});");
                    w.Line($"if (score.Enabled && rowBase + {mt * 16 + (e / 2) * 8} < seqQ && {cc} < seqK)");
                    w.Open();
                    w.Line($"var at = new CudaScorePosition(batch, head, rowBase + {mt * 16 + (e / 2) * 8}, {cc}, seqQ, seqK);");
                    w.Line($"float y = {v} * 0.6931471805599453f;");
                    w.Line($"dd_{mt}_{j}_{e} *= score.Derivative(y, at);");
                    w.Line($"{v} = score.Apply(y, at) * 1.4426950408889634f;");
                    w.Close();
                    w.Line($"{x} = PtxOps.Exp2({v} - lse_{r});");
                }
        w.Line("bool userMask = mask.Enabled && coverage != BlockCoverage.Full;");
        w.Line("if (userMask || p.KeyMask != 0 || TileMath.TileNeedsMask(n, BlockN, p.WindowLeft, p.WindowRight, qStart, qEnd, seqQ, seqK))");
        w.Open();
        w.Line("int lastKey = seqK - 1;");
        w.Line("ulong keyMask = p.KeyMask + (ulong)((long)batch * p.KeyMaskStride);");
        w.Line("// The window bounds of each row, recomputed per masked tile (cheaper than registers held across the loop).");
        KernelSnippets.RowWindowBounds(w, c.MTiles);
        for (int j = 0; j < nTiles; j++)
            for (int e = 0; e < 2; e++)
            {
                string cc = $"col + {j * 8 + e}";
                w.Line($"bool keep_{j}_{e} = p.KeyMask == 0 || PtxOps.LoadByte(keyMask + (ulong)({cc} <= lastKey ? {cc} : lastKey)) != 0;");
                for (int mt = 0; mt < c.MTiles; mt++)
                    for (int h = 0; h < 2; h++)
                    {
                        string r = $"{mt}_{h}";
                        string x = $"s_{mt}_{j}.{Comp[2 * h + e]}";
                        w.Line($"{x} = keep_{j}_{e} && {cc} >= lo_{r} && {cc} <= hi_{r} && (!userMask || (rowBase + {mt * 16 + h * 8} < seqQ && mask.IsVisible(new CudaScorePosition(batch, head, rowBase + {mt * 16 + h * 8}, {cc}, seqQ, seqK)))) ? {x} : 0f;");
                    }
            }
        w.Close();
        w.Line("float dropScale = p.DropScale;");
        DropoutCodegen.EmitRowPairBits(w, c.MTiles, nTiles, mt => $"rowBase + {mt * 16}");
        for (int mt = 0; mt < c.MTiles; mt++)
            for (int h = 0; h < 2; h++)
            {
                string r = $"{mt}_{h}";
                for (int j = 0; j < nTiles; j++)
                {
                    string a = Comp[2 * h], b = Comp[2 * h + 1];
                    w.Line($"uint dk_{r}_{j} = {DropoutCodegen.RowPairBits(mt, h, j)};");
                    w.Line($"dp_{mt}_{j}.{a} = s_{mt}_{j}.{a} * ((features.Dropout ? ((dk_{r}_{j} & 1u) != 0 ? dp_{mt}_{j}.{a} * dropScale : 0f) : dp_{mt}_{j}.{a}) - rd_{r});");
                    w.Line($"dp_{mt}_{j}.{b} = s_{mt}_{j}.{b} * ((features.Dropout ? ((dk_{r}_{j} & 2u) != 0 ? dp_{mt}_{j}.{b} * dropScale : 0f) : dp_{mt}_{j}.{b}) - rd_{r});");
                    w.Line($"if (chain) dp_{mt}_{j}.{a} *= dd_{mt}_{j}_{2 * h};");
                    w.Line($"if (chain) dp_{mt}_{j}.{b} *= dd_{mt}_{j}_{2 * h + 1};");
                }
            }
        w.Line();
        w.Line("// dQ += dS·K: dS as A fragments, K by ldmatrix.trans.");
        for (int mt = 0; mt < c.MTiles; mt++)
            for (int tt = 0; tt < c.BlockN / 16; tt++)
            {
                int j0 = 2 * tt, j1 = 2 * tt + 1;
                w.Line($"uint ds_{mt}_{tt}_0 = kind.Pack(dp_{mt}_{j0}.X, dp_{mt}_{j0}.Y);");
                w.Line($"uint ds_{mt}_{tt}_1 = kind.Pack(dp_{mt}_{j0}.Z, dp_{mt}_{j0}.W);");
                w.Line($"uint ds_{mt}_{tt}_2 = kind.Pack(dp_{mt}_{j1}.X, dp_{mt}_{j1}.Y);");
                w.Line($"uint ds_{mt}_{tt}_3 = kind.Pack(dp_{mt}_{j1}.Z, dp_{mt}_{j1}.W);");
            }
        for (int tt = 0; tt < c.BlockN / 16; tt++)
        {
            w.Line($"uint kOff{tt} = kTile + (uint)(tRow + {tt * 16 * rb});");
            for (int u = 0; u < dTiles / 2; u++)
            {
                w.Line($"Uint4 kt_{tt}_{u} = PtxOps.LdMatrixX4Trans(kOff{tt} + (uint)((({2 * u} + half) ^ swz) << 4));");
                for (int mt = 0; mt < c.MTiles; mt++)
                {
                    string a = $"ds_{mt}_{tt}_0, ds_{mt}_{tt}_1, ds_{mt}_{tt}_2, ds_{mt}_{tt}_3";
                    w.Line($"dq_{mt}_{2 * u} = kind.Mma(dq_{mt}_{2 * u}, {a}, kt_{tt}_{u}.X, kt_{tt}_{u}.Y);");
                    w.Line($"dq_{mt}_{2 * u + 1} = kind.Mma(dq_{mt}_{2 * u + 1}, {a}, kt_{tt}_{u}.Z, kt_{tt}_{u}.W);");
                }
            }
        }
        w.Close();
        w.Line();
        w.Line("// Epilogue: dq = scale·dQ for the rows that exist.");
        w.Line("PtxOps.WaitGroup0();");
        w.Line("float qScale = p.Scale;");
        w.Line("long dqElement = (qTok0 + qStart) * p.Heads * p.HeadDim + (long)head * p.HeadDim + 2 * t;");
        for (int mt = 0; mt < c.MTiles; mt++)
            for (int h = 0; h < 2; h++)
            {
                string r = $"{mt}_{h}";
                string a = Comp[2 * h], b = Comp[2 * h + 1];
                w.Line($"int row_{r} = rowBase + {mt * 16 + h * 8};");
                w.Line($"if (row_{r} < seqQ)");
                w.Open();
                w.Line($"long at_{r} = dqElement + (long)(row_{r} - qStart) * p.Heads * p.HeadDim;");
                w.Line("if (p.DqFloat != 0)");
                w.Open();
                for (int dt = 0; dt < dTiles; dt++)
                    w.Line($"{(dt * 8 < minDim ? "" : $"if ({dt * 8} < p.HeadDim) ")}{{ PtxOps.StoreFloat(p.DQ + (ulong)((at_{r} + {dt * 8}) * 4), dq_{mt}_{dt}.{a} * qScale); PtxOps.StoreFloat(p.DQ + (ulong)((at_{r} + {dt * 8}) * 4 + 4), dq_{mt}_{dt}.{b} * qScale); }}");
                w.Close();
                w.Line("else");
                w.Open();
                for (int dt = 0; dt < dTiles; dt++)
                    w.Line($"{(dt * 8 < minDim ? "" : $"if ({dt * 8} < p.HeadDim) ")}PtxOps.StoreWord(p.DQ + (ulong)((at_{r} + {dt * 8}) * 2), kind.Pack(dq_{mt}_{dt}.{a} * qScale, dq_{mt}_{dt}.{b} * qScale));");
                w.Close();
                w.Close();
            }
        w.Close();
    }

    // ------------------------------------------------------------------------------------------------------------
    // Returned softmax
    // ------------------------------------------------------------------------------------------------------------

    private static void SoftmaxKernel(CodeWriter w, SoftmaxConfig sc)
    {
        var c = sc.AsDq;
        int d = c.HeadDim, layout = c.LayoutDim, rb = layout * 2, nTiles = c.BlockN / 8;
        int chunksLog2 = (int)Math.Log2(layout / 8);
        w.Line("/// <summary>");
        w.Line($"/// Returned softmax, head dim ≤ {d}: a block of {c.Threads} threads owns {c.BlockM} query rows and, for every key tile that");
        w.Line($"/// they can see ({c.BlockN} keys), recomputes S = Q·Kᵀ and writes P = 2^(logit − LSE₂) as float32 [B, H, max_Nq, max_Nk],");
        w.Line("/// negated where dropout drops the entry. The host clears the buffer first (entries no row can see stay 0).");
        w.Line("/// </summary>");
        w.Line($"public static void {sc.Name}<TKind, TMode, TFeatures, TScore, TMask, TLayout>(BackwardParams p, ModPair<TScore, TMask> mods) " +
               "where TKind : struct, IElementKind where TMode : struct, IScoreMode where TFeatures : struct, IFeatures " +
               "where TScore : struct, ICudaScoreMod where TMask : struct, ICudaMaskMod where TLayout : struct, ISequenceLayout");
        w.Open();
        w.Line($"const int RowBytes = {rb}, BlockM = {c.BlockM}, BlockN = {c.BlockN};");
        w.Line("const int QBytes = BlockM * RowBytes, KvBytes = BlockN * RowBytes;");
        w.Line("var kind = default(TKind);");
        w.Line("var mode = default(TMode);");
        w.Line("var features = default(TFeatures);");
        w.Line("var score = mods.Score;");
        w.Line("var mask = mods.Mask;");
        w.Line("var layout = default(TLayout);");
        w.Line("int tid = Group.IdxX;");
        w.Line("int lane = tid & 31;");
        w.Line("int warp = tid >> 5;");
        w.Line("int g = lane >> 2;");
        w.Line("int t = lane & 3;");
        w.Line("int swz = lane & 7;");
        w.Line("int half = lane >> 4;");
        w.Line("int qBlock = Grid.IdxX;");
        w.Line("int head = Grid.IdxY;");
        w.Line("int batch = Grid.IdxZ;");
        w.Line("int kvHead = head / p.GroupSize;");
        ForwardKernelGenerator.EmitSequence(w, "layout.Packed");
        w.Line("int qStart = qBlock * BlockM;");
        w.Line("if (qStart >= seqQ)");
        w.Line("    return;");
        w.Line("int qRows = seqQ - qStart < BlockM ? seqQ - qStart : BlockM;");
        w.Line("int qEnd = qStart + qRows;");
        w.Line("int nFirst = TileMath.KeyBlockFirst(p.WindowLeft, p.WindowRight, qStart, qEnd, seqQ, seqK, BlockN);");
        w.Line("int nEnd = TileMath.KeyBlockEnd(p.WindowLeft, p.WindowRight, qStart, qEnd, seqQ, seqK, BlockN);");
        w.Line("uint sQ = PtxOps.SharedBase();");
        w.Line("uint sK = sQ + QBytes;");
        w.Line("int headBytes = p.HeadDim * 2;");
        w.Line("long qRowStride = (long)p.Heads * headBytes;");
        w.Line("long kRowStride = (long)p.KvHeads * headBytes;");
        w.Line("long qOffset = (qTok0 + qStart) * qRowStride + (long)head * headBytes;");
        w.Line("ulong kBase = p.K + (ulong)(kTok0 * kRowStride + (long)kvHead * headBytes);");
        w.Line($"const int RowStep = {c.Threads / (layout / 8)};");
        w.Line($"int ldRow = tid >> {chunksLog2};");
        w.Line($"int ldChunk = tid & {layout / 8 - 1};");
        w.Line("bool chunkOk = ldChunk < (p.HeadDim >> 3);");
        w.Line("uint ldShared = (uint)TileMath.SwizzledOffset(ldRow, ldChunk, RowBytes);");
        w.Line("long ldQ = ldRow * qRowStride + (ldChunk << 4);");
        w.Line("long ldKv = ldRow * kRowStride + (ldChunk << 4);");
        w.Open();
        KernelSnippets.Load(w, c.Threads, layout, "sQ", "p.Q + (ulong)qOffset", "ldQ", "qRowStride", c.BlockM, "qRows");
        w.Close();
        w.Line("PtxOps.CommitGroup();");
        w.Line("if (nFirst < nEnd)");
        w.Open();
        KernelSnippets.Load(w, c.Threads, layout, "sK", "kBase + (ulong)(nFirst * BlockN * kRowStride)", "ldKv", "kRowStride", c.BlockN, "seqK - nFirst * BlockN");
        w.Close();
        w.Line("PtxOps.CommitGroup();");
        w.Line($"int warpRow = warp * {16 * c.MTiles};");
        w.Line("uint qFrag = sQ + (uint)((warpRow + (lane & 15)) * RowBytes);");
        w.Line("int bRow = (lane & 7) * RowBytes;");
        w.Line("int quarter = lane >> 3;");
        w.Line("int shift = seqK - seqQ;");
        w.Line("int rowBase = qStart + warpRow + g;");
        w.Line("float alibiSlope = features.Alibi ? PtxOps.LoadFloat(p.Alibi + (ulong)(((long)batch * p.Heads + head) * 4)) : 0f;");
        w.Line("uint dropHead = (uint)(batch * p.Heads + head);");
        w.Line("long lseRow = layout.Packed ? (long)head * p.TotalQ + qTok0 : ((long)batch * p.Heads + head) * p.SeqQ;");
        w.Line("ulong pBase = p.DQ + (ulong)((((long)batch * p.Heads + head) * p.SeqQ) * p.SeqK * 4);");
        for (int mt = 0; mt < c.MTiles; mt++)
            for (int h = 0; h < 2; h++)
            {
                string r = $"{mt}_{h}";
                w.Line($"int prow_{r} = rowBase + {mt * 16 + h * 8};");
                w.Line($"float lseNat_{r} = prow_{r} < seqQ ? PtxOps.LoadFloat(p.Lse + (ulong)((lseRow + prow_{r}) * 4)) : float.PositiveInfinity;");
                w.Line($"float lse_{r} = lseNat_{r} == float.PositiveInfinity ? float.PositiveInfinity : lseNat_{r} * 1.4426950408889634f;");
                w.Line($"int diag_{r} = prow_{r} + shift;");
                w.Line($"int lo_{r} = p.WindowLeft < 0 ? 0 : diag_{r} - p.WindowLeft;");
                w.Line($"int hi_{r} = p.WindowRight < 0 || diag_{r} + p.WindowRight > seqK - 1 ? seqK - 1 : diag_{r} + p.WindowRight;");
            }
        w.Line();
        w.Line("for (int n = nFirst; n < nEnd; n++)");
        w.Open();
        w.Line("uint stage = (uint)((n - nFirst) & 1);");
        w.Line("uint kTile = sK + stage * KvBytes;");
        w.Line("PtxOps.WaitGroup0();");
        w.Line("Group.Barrier();");
        w.Line("if (n + 1 < nEnd)");
        w.Open();
        KernelSnippets.Load(w, c.Threads, layout, "sK + (stage ^ 1) * KvBytes", "kBase + (ulong)((n + 1) * BlockN * kRowStride)", "ldKv", "kRowStride", c.BlockN, "seqK - (n + 1) * BlockN");
        w.Close();
        w.Line("PtxOps.CommitGroup();");
        w.Line("BlockCoverage coverage = mask.Enabled ? mask.Classify(new TileBounds(batch, head, qStart, qEnd, n * BlockN, (n + 1) * BlockN < seqK ? (n + 1) * BlockN : seqK, seqQ, seqK)) : BlockCoverage.Full;");
        w.Line("if (mask.Enabled && coverage == BlockCoverage.Empty)");
        w.Line("    continue;");
        EmitRowProduct(w, c, "s", "q", "qFrag", "kTile");
        w.Line("float prep = p.PrepScale;");
        w.Line("float sl2 = p.ScaleLog2;");
        w.Line("int col = n * BlockN + 2 * t;");
        w.Line("bool userMask = mask.Enabled && coverage != BlockCoverage.Full;");
        w.Line("ulong keyMask = p.KeyMask + (ulong)((long)batch * p.KeyMaskStride);");
        DropoutCodegen.EmitRowPairBits(w, c.MTiles, nTiles, mt => $"prow_{mt}_0");
        for (int mt = 0; mt < c.MTiles; mt++)
            for (int j = 0; j < nTiles; j++)
            {
                for (int e = 0; e < 2; e++)
                {
                    string cc = $"col + {j * 8 + e}";
                    w.Line($"bool keep_{mt}_{j}_{e} = {cc} < seqK && (p.KeyMask == 0 || PtxOps.LoadByte(keyMask + (ulong)({cc})) != 0);");
                }
                for (int h = 0; h < 2; h++)
                {
                    string r = $"{mt}_{h}";
                    w.Line($"uint drop_{mt}_{j}_{h} = {DropoutCodegen.RowPairBits(mt, h, j)};");
                    for (int e = 0; e < 2; e++)
                    {
                        string x = $"s_{mt}_{j}.{Comp[2 * h + e]}";
                        string cc = $"col + {j * 8 + e}";
                        w.Line($"float v_{mt}_{j}_{h}_{e} = mode.Prepare({x}, prep) * sl2;");
                        w.Line($"if (features.Alibi) v_{mt}_{j}_{h}_{e} -= alibiSlope * (float)AbsDistance(diag_{r}, {cc});");
                        w.Line($"if (score.Enabled && prow_{r} < seqQ && {cc} < seqK) v_{mt}_{j}_{h}_{e} = score.Apply(v_{mt}_{j}_{h}_{e} * 0.6931471805599453f, new CudaScorePosition(batch, head, prow_{r}, {cc}, seqQ, seqK)) * 1.4426950408889634f;");
                        w.Line($"bool visible_{mt}_{j}_{h}_{e} = keep_{mt}_{j}_{e} && {cc} >= lo_{r} && {cc} <= hi_{r} && (!userMask || (prow_{r} < seqQ && mask.IsVisible(new CudaScorePosition(batch, head, prow_{r}, {cc}, seqQ, seqK))));");
                        w.Line($"float pr_{mt}_{j}_{h}_{e} = visible_{mt}_{j}_{h}_{e} ? PtxOps.Exp2(v_{mt}_{j}_{h}_{e} - lse_{r}) : 0f;");
                        w.Line($"if (features.Dropout && (drop_{mt}_{j}_{h} & {1 << e}u) == 0) pr_{mt}_{j}_{h}_{e} = -pr_{mt}_{j}_{h}_{e};");
                        w.Line($"if (prow_{r} < seqQ && {cc} < seqK) PtxOps.StoreFloat(pBase + (ulong)(((long)prow_{r} * p.SeqK + {cc}) * 4), pr_{mt}_{j}_{h}_{e});");
                    }
                }
            }
        w.Close();
        w.Line("PtxOps.WaitGroup0();");
        w.Close();
    }

    /// <summary>K and V tile <paramref name="block"/> into <paramref name="stage"/>, as one cp.async group with the caller's commit.</summary>
    private static void EmitKvLoad(CodeWriter w, BackwardDqConfig c, string stage, string block)
    {
        w.Line($"uint kvStage = {stage};");
        w.Line($"int kvBlock = {block};");
        w.Open();
        KernelSnippets.Load(w, c.Threads, c.LayoutDim, "sK + kvStage * KvBytes", "kBase + (ulong)(kvBlock * BlockN * kRowStride)", "ldKv", "kRowStride", c.BlockN, "seqK - kvBlock * BlockN");
        w.Close();
        w.Open();
        KernelSnippets.Load(w, c.Threads, c.LayoutDim, "sV + kvStage * KvBytes", "vBase + (ulong)(kvBlock * BlockN * kRowStride)", "ldKv", "kRowStride", c.BlockN, "seqK - kvBlock * BlockN");
        w.Close();
    }

    /// <summary>acc_mt_j = A·Bᵀ for the warp's rows: A = row fragments (registers or shared memory), B = rows of the key tile.</summary>
    private static void EmitRowProduct(CodeWriter w, BackwardDqConfig c, string acc, string aName, string aFrag, string tile)
    {
        int d = c.HeadDim, rb = c.LayoutDim * 2, kSteps = d / 16, nTiles = c.BlockN / 8;
        for (int mt = 0; mt < c.MTiles; mt++)
            for (int j = 0; j < nTiles; j++)
                w.Line($"Float4 {acc}_{mt}_{j} = default;");
        for (int pr = 0; pr < kSteps / 2; pr++)
        {
            int k0 = 2 * pr, k1 = 2 * pr + 1;
            string[] a0 = new string[c.MTiles], a1 = new string[c.MTiles];
            for (int mt = 0; mt < c.MTiles; mt++)
            {
                a0[mt] = $"{aName}_{mt}_{k0}";
                a1[mt] = $"{aName}_{mt}_{k1}";
                if (!c.FragmentsInRegisters)
                {
                    a0[mt] = $"{aName}{acc}_{mt}_{k0}";
                    a1[mt] = $"{aName}{acc}_{mt}_{k1}";
                    w.Line($"Uint4 {a0[mt]} = PtxOps.LdMatrixX4({aFrag} + {mt * 16 * rb}u + (uint)((({2 * k0} + half) ^ swz) << 4));");
                    w.Line($"Uint4 {a1[mt]} = PtxOps.LdMatrixX4({aFrag} + {mt * 16 * rb}u + (uint)((({2 * k1} + half) ^ swz) << 4));");
                }
            }
            w.Line($"uint {acc}Off{pr} = {tile} + (uint)(bRow + ((({4 * pr} + quarter) ^ swz) << 4));");
            for (int j = 0; j < nTiles; j++)
            {
                w.Line($"Uint4 {acc}b_{pr}_{j} = PtxOps.LdMatrixX4({acc}Off{pr} + {j * 8 * rb}u);");
                for (int mt = 0; mt < c.MTiles; mt++)
                {
                    w.Line($"{acc}_{mt}_{j} = kind.Mma({acc}_{mt}_{j}, {a0[mt]}.X, {a0[mt]}.Y, {a0[mt]}.Z, {a0[mt]}.W, {acc}b_{pr}_{j}.X, {acc}b_{pr}_{j}.Y);");
                    w.Line($"{acc}_{mt}_{j} = kind.Mma({acc}_{mt}_{j}, {a1[mt]}.X, {a1[mt]}.Y, {a1[mt]}.Z, {a1[mt]}.W, {acc}b_{pr}_{j}.Z, {acc}b_{pr}_{j}.W);");
                }
            }
        }
    }
}
