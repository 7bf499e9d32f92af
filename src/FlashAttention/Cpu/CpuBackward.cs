using System.Runtime.CompilerServices;
namespace FlashAttention.Cpu;

/// <summary>Raw views of a backward call's tensors.</summary>
internal readonly unsafe struct BackwardTensors<T>(T* q, T* k, T* v, T* output, float* lse, T* dOutput, T* dq, T* dk, T* dv)
    where T : unmanaged
{
    public readonly T* Q = q, K = k, V = v, Output = output, DOutput = dOutput, DQ = dq, DK = dk, DV = dv;
    public readonly float* Lse = lse;
}

/// <summary>
/// The CPU backward pass, FlashAttention-2 style. (1) Per query row: D = rowsum(dO∘O), and q (scaled, normalised
/// for cosine) and dO converted once to float32 rows padded to the vector width, which the tiles then read in place —
/// every key block revisits every query block, so converting per visit would repeat O(N²·D/64) work. (2) One task per key block
/// of one key/value head: dK and dV live in the task's tiles while it sweeps every query block (of every query head of
/// the GQA group) that can see the block, recomputing P = exp(S − LSE) from the saved LSE; dQ contributions go to a
/// float32 accumulator. (3) dq = scale·Σ accumulators, in a fixed order.
/// When there are fewer (batch, kv-head) pairs than threads, each pair's key blocks are dealt round-robin to
/// <c>chunks</c> tasks, each with its own dQ accumulator, summed in chunk order: results are bit-reproducible for a
/// given degree of parallelism, with no atomics. Extra memory: chunks × dq in float32, O(N).
/// </summary>
internal static unsafe class CpuBackward
{
    public const int BlockQ = 64;
    /// <summary>Keys per tile; at most 64, since a row's dropout bits travel in one ulong.</summary>
    public const int BlockK = 64;

    public static void Run<T, TScore, TMask>(AttentionProblem p, BackwardTensors<T> t, TScore score, TMask mask)
        where T : unmanaged
        where TScore : struct, IScoreMod
        where TMask : struct, IMaskMod
    {
        int d = p.HeadDim, dp = TileGemm.RoundUp(d, TileGemm.Lanes);
        var options = new ParallelOptions { MaxDegreeOfParallelism = p.Threads };
        // [TotalQ + 4, H, dp]: the extra rows absorb the reads of a tile whose row count is rounded up to 4.
        int paddedRows = checked((p.TotalQ + 4) * p.Heads * dp);
        int units = p.Batch * p.KvHeads;
        int maxKeyBlocks = Math.Max(1, BlockInfo.BlockCount(p.MaxSeqK, BlockK));
        // About four tasks per thread: on a shared machine equal tasks take unequal time (2× spreads measured on the
        // 16-core host), and finer tasks let the fast workers absorb the slow ones' share.
        int chunks = units >= 4 * p.Threads ? 1 : Math.Clamp((4 * p.Threads + units - 1) / units, 1, maxKeyBlocks);
        var workspace = BackwardWorkspace.Rent(checked((int)p.LseLength), paddedRows, chunks, checked(p.TotalQ * p.Heads * d));
        float[] rowDots = workspace.RowDots, queries = workspace.Queries, dOutputs = workspace.DOutputs;
        float[][] dqAccumulators = workspace.DqAccumulators;
        PrepareRows(p, t, rowDots, queries, dOutputs, dp, options);
        new Span<float>(queries, paddedRows - 4 * p.Heads * dp, 4 * p.Heads * dp).Clear();
        new Span<float>(dOutputs, paddedRows - 4 * p.Heads * dp, 4 * p.Heads * dp).Clear();

        long scratchFloats = TileScratch.Size(BlockK * dp, dp * BlockK, dp * BlockK, BlockQ * dp,
            BlockQ * BlockK, BlockQ * BlockK, BlockQ * BlockK, BlockQ * BlockK, BlockK * dp, BlockK * dp, dp);
        WorkerPool.Run(units * chunks, p.Threads, () => new Tiles(new TileScratch(scratchFloats), dp), (task, tiles) =>
        {
            int b = task / (p.KvHeads * chunks), rest = task % (p.KvHeads * chunks);
            int hk = rest / chunks, chunk = rest % chunks;
            fixed (float* dqAcc = dqAccumulators[chunk])
            fixed (float* dots = rowDots, qs = queries, dO = dOutputs)
            {
                // This task is the only writer of its chunk's accumulator rows for (b, group hk): clear them here.
                for (int i = 0; i < p.SeqQ(b); i++)
                    new Span<float>(dqAcc + ((long)(p.CuQ[b] + i) * p.Heads + hk * p.GroupSize) * d, p.GroupSize * d).Clear();
                var rows = new PreparedRows(dots, qs, dO, p.Heads * dp);
                int keyBlocks = BlockInfo.BlockCount(p.SeqK(b), BlockK);
                for (int kb = chunk; kb < keyBlocks; kb += chunks)
                    KeyBlock(p, t, score, mask, tiles, rows, dqAcc, b, hk, kb);
            }
        });

        WriteDq(p, t, dqAccumulators, chunks, options);
        BackwardWorkspace.Return(workspace);
    }

    /// <summary>Float32 views of the per-row inputs: D laid out like the LSE; q and dO as [token, H, dp] rows.</summary>
    private readonly struct PreparedRows(float* dots, float* queries, float* dOutputs, int tokenStride)
    {
        public readonly float* Dots = dots, Queries = queries, DOutputs = dOutputs;
        /// <summary>Floats between consecutive tokens of one head: H·dp.</summary>
        public readonly int TokenStride = tokenStride;
    }

    /// <summary>
    /// D[b, h, i] = Σ_x dO[i, h, x]·O[i, h, x] (laid out like the LSE); q scaled (and normalised) and dO as float32
    /// rows [token, h, 0..dp), zero-padded past the head dim.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PrepareRows<T>(AttentionProblem p, BackwardTensors<T> t, float[] rowDots, float[] queries, float[] dOutputs,
        int dp, ParallelOptions options) where T : unmanaged
    {
        int d = p.HeadDim;
        Parallel.For(0, p.Batch * p.Heads, options, bh =>
        {
            int b = bh / p.Heads, h = bh % p.Heads;
            float* o = stackalloc float[d];
            fixed (float* qs = queries, dO = dOutputs)
            {
                for (int i = 0; i < p.SeqQ(b); i++)
                {
                    long row = ((long)(p.CuQ[b] + i) * p.Heads + h) * dp;
                    Elements.ToFloat(t.Output + p.QOffset(b, i, h), o, d);
                    Elements.ToFloat(t.DOutput + p.QOffset(b, i, h), dO + row, d);
                    new Span<float>(dO + row + d, dp - d).Clear();
                    new Span<float>(qs + row + d, dp - d).Clear();
                    rowDots[p.LseIndex(b, h, i)] = RowMath.Dot(o, dO + row, d);
                }
                TileLoad.QueryRows(p, t.Q, b, h, 0, p.SeqQ(b), qs + ((long)p.CuQ[b] * p.Heads + h) * dp, p.Heads * dp);
            }
        });
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void KeyBlock<T, TScore, TMask>(AttentionProblem p, BackwardTensors<T> t, TScore score, TMask mask, Tiles s,
        PreparedRows prepared, float* dqAcc, int b, int hk, int kb)
        where T : unmanaged
        where TScore : struct, IScoreMod
        where TMask : struct, IMaskMod
    {
        int d = p.HeadDim, dp = s.Dp, nq = p.SeqQ(b), nk = p.SeqK(b);
        int j0 = kb * BlockK, cols = Math.Min(BlockK, nk - j0), cols4 = TileGemm.RoundUp(cols, 4);
        bool modify = typeof(TScore) != typeof(NoScoreMod);
        var dropout = p.Dropout;

        TileLoad.Rows(p, t.K, b, hk, j0, cols, s.K, dp, normalize: true);
        TileLoad.Transpose(s.K, cols, d, dp, s.Kt, BlockK);
        TileLoad.Rows(p, t.V, b, hk, j0, cols, s.DV, dp, normalize: false);
        TileLoad.Transpose(s.DV, cols, d, dp, s.Vt, BlockK);
        new Span<float>(s.DV, BlockK * dp).Clear();
        new Span<float>(s.DK, BlockK * dp).Clear();

        for (int h = hk * p.GroupSize; h < (hk + 1) * p.GroupSize; h++)
        {
            var (first, end) = p.HasWindow
                ? BlockInfo.QueryBlocks(p.WindowLeft, p.WindowRight, j0, j0 + cols, nq, nk, BlockQ)
                : (0, BlockInfo.BlockCount(nq, BlockQ));
            for (int qb = first; qb < end; qb++)
            {
                int i0 = qb * BlockQ, rows = Math.Min(BlockQ, nq - i0), rows4 = TileGemm.RoundUp(rows, 4);
                var coverage = mask.Classify(new TileBounds(b, h, i0, i0 + rows, j0, j0 + cols, nq, nk));
                if (coverage == BlockCoverage.Empty)
                    continue;
                int ld = prepared.TokenStride;
                float* qs = prepared.Queries + ((long)(p.CuQ[b] + i0) * p.Heads + h) * dp;
                float* dO = prepared.DOutputs + ((long)(p.CuQ[b] + i0) * p.Heads + h) * dp;

                // S = (scale·q)·kᵀ, then P = exp(mod(S) − LSE) row by row
                TileGemm.Multiply(qs, ld, 1, s.Kt, BlockK, s.S, BlockK, rows4, BlockK, d, accumulate: false);
                float* pd = dropout.Enabled ? s.Pd : s.S;
                for (int r = 0; r < rows; r++)
                {
                    float* srow = s.S + r * BlockK;
                    var at = new ScorePosition(b, h, i0 + r, j0, nq, nk);
                    if (modify)
                        score.ApplyRow(new Span<float>(srow, cols), new Span<float>(s.G + r * BlockK, cols), at);
                    if (coverage == BlockCoverage.Partial)
                        mask.ApplyRow(new Span<float>(srow, cols), at);
                    RowMath.ExpShifted(srow, cols, t.Lse[p.LseIndex(b, h, i0 + r)]);
                    if (dropout.Enabled)
                    {
                        // one Philox evaluation per row serves both P∘Z and dP∘Z
                        s.Dropped[r] = dropout.DroppedBits(b, h, i0 + r, j0, cols);
                        float* prow = s.Pd + r * BlockK;
                        Buffer.MemoryCopy(srow, prow, cols * sizeof(float), cols * sizeof(float));
                        DropoutMask.ApplyDropped(prow, 1, s.Dropped[r], negateInstead: false);
                        RowMath.Scale(prow, cols, dropout.KeepScale);
                    }
                }

                // dV += (P∘Z/keep)ᵀ·dO
                TileGemm.Multiply(pd, 1, BlockK, dO, ld, s.DV, dp, cols4, dp, rows, accumulate: true);
                // dP = dO·vᵀ, then dS = P∘(dP∘Z/keep − D) (∘ mod′)
                TileGemm.Multiply(dO, ld, 1, s.Vt, BlockK, s.DS, BlockK, rows4, BlockK, d, accumulate: false);
                for (int r = 0; r < rows; r++)
                {
                    float* ds = s.DS + r * BlockK, prob = s.S + r * BlockK, g = s.G + r * BlockK;
                    if (dropout.Enabled)
                    {
                        DropoutMask.ApplyDropped(ds, 1, s.Dropped[r], negateInstead: false);
                        RowMath.Scale(ds, cols, dropout.KeepScale);
                    }
                    float dot = prepared.Dots[p.LseIndex(b, h, i0 + r)];
                    RowMath.SoftmaxGradient(ds, prob, dot, cols);
                    if (modify)
                        RowMath.Multiply(ds, g, cols);
                }

                // dQ(scaled q) += dS·k  → accumulator rows of this head
                TileGemm.Multiply(s.DS, BlockK, 1, s.K, dp, s.DQ, dp, rows4, dp, cols, accumulate: false);
                for (int r = 0; r < rows; r++)
                    RowMath.Add(dqAcc + ((long)(p.CuQ[b] + i0 + r) * p.Heads + h) * d, s.DQ + r * dp, d);
                // dK += dSᵀ·(scale·q)
                TileGemm.Multiply(s.DS, 1, BlockK, qs, ld, s.DK, dp, cols4, dp, rows, accumulate: true);
            }
        }

        bool cosineChain = p.Variant == AttentionVariant.Cosine && p.L2Normalize;
        for (int c = 0; c < cols; c++)
        {
            float* dkRow = s.DK + c * dp;
            if (cosineChain)
            {
                Elements.ToFloat(t.K + p.KOffset(b, j0 + c, hk), s.Row, d);
                NormalizationBackward(dkRow, s.Row, d, p.CosineGroups);
            }
            Elements.FromFloat(dkRow, t.DK + p.KOffset(b, j0 + c, hk), d);
            Elements.FromFloat(s.DV + c * dp, t.DV + p.KOffset(b, j0 + c, hk), d);
        }
    }

    /// <summary>dq = scale·Σ_chunks accumulator (then through the L2 normalisation for cosine attention).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WriteDq<T>(AttentionProblem p, BackwardTensors<T> t, float[][] accumulators, int chunks, ParallelOptions options) where T : unmanaged
    {
        int d = p.HeadDim;
        bool cosineChain = p.Variant == AttentionVariant.Cosine && p.L2Normalize;
        Parallel.For(0, p.Batch * p.Heads, options, bh =>
        {
            int b = bh / p.Heads, h = bh % p.Heads;
            float* sum = stackalloc float[d];
            float* raw = stackalloc float[d];
            for (int i = 0; i < p.SeqQ(b); i++)
            {
                long at = ((long)(p.CuQ[b] + i) * p.Heads + h) * d;
                new Span<float>(sum, d).Clear();
                for (int c = 0; c < chunks; c++)
                    fixed (float* a = &accumulators[c][at])
                        RowMath.Add(sum, a, d);
                RowMath.Scale(sum, d, p.Scale);
                if (cosineChain)
                {
                    Elements.ToFloat(t.Q + p.QOffset(b, i, h), raw, d);
                    NormalizationBackward(sum, raw, d, p.CosineGroups);
                }
                Elements.FromFloat(sum, t.DQ + p.QOffset(b, i, h), d);
            }
        });
    }

    /// <summary>
    /// Gradient through x̂ = x / max(‖x_g‖, ε) per group: dx = (dx̂ − x̂·(x̂·dx̂)) / ‖x_g‖, or dx̂/ε where the norm is
    /// clamped. <paramref name="grad"/> holds dx̂ on entry and dx on return; <paramref name="raw"/> is x (overwritten).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void NormalizationBackward(float* grad, float* raw, int d, int groups)
    {
        int g = d / groups;
        for (int start = 0; start < d; start += g)
        {
            float* x = raw + start, dx = grad + start;
            float norm = MathF.Sqrt(RowMath.Dot(x, x, g));
            if (norm <= TileLoad.NormEpsilon)
            {
                RowMath.Scale(dx, g, 1f / TileLoad.NormEpsilon);
                continue;
            }
            RowMath.Scale(x, g, 1f / norm);
            float along = RowMath.Dot(x, dx, g);
            for (int i = 0; i < g; i++)
                dx[i] = (dx[i] - x[i] * along) / norm;
        }
    }

    private sealed class Tiles
    {
        private readonly TileScratch _owner;
        public readonly int Dp;
        public readonly float* K, Kt, Vt, DQ, S, Pd, DS, G, DK, DV, Row;
        /// <summary>Per query row of the current tile: bit c set when key c was dropped.</summary>
        public readonly ulong[] Dropped = new ulong[BlockQ];

        public Tiles(TileScratch scratch, int dp)
        {
            _owner = scratch;
            Dp = dp;
            K = scratch.Take(BlockK * dp);
            Kt = scratch.Take(dp * BlockK);
            Vt = scratch.Take(dp * BlockK);
            DQ = scratch.Take(BlockQ * dp);
            S = scratch.Take(BlockQ * BlockK);
            Pd = scratch.Take(BlockQ * BlockK);
            DS = scratch.Take(BlockQ * BlockK);
            G = scratch.Take(BlockQ * BlockK);
            DK = scratch.Take(BlockK * dp);
            DV = scratch.Take(BlockK * dp);
            Row = scratch.Take(dp);
        }
    }
}
