using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace FlashAttention.Cpu;

/// <summary>Raw views of a forward call's tensors (spans cannot cross into parallel workers).</summary>
internal readonly unsafe struct ForwardTensors<T>(T* q, T* k, T* v, T* output, float* lse, float* softmax)
    where T : unmanaged
{
    public readonly T* Q = q, K = k, V = v, Output = output;
    public readonly float* Lse = lse;
    /// <summary>Null unless the caller asked for the probabilities.</summary>
    public readonly float* Softmax = softmax;
}

/// <summary>
/// The CPU forward pass. One task = one block of 128 (or, when that leaves cores idle, 64) query rows of one head; it streams the visible
/// key/value blocks through L1/L2-sized tiles with an online softmax, so no N×N buffer exists at any time.
/// The tile is kept transposed (Sᵀ = K·Qᵀ, keys × queries): Qᵀ is built once per task, K and V rows load as they are,
/// P·V reads Sᵀ as a transposed operand, and the softmax reductions run down columns — eight or sixteen queries per
/// vector, no horizontal sums.
/// </summary>
internal static unsafe class CpuForward
{
    /// <summary>Query rows per task when there are enough tasks: more rows per loaded K/V tile halves the loads and conversions per FLOP.</summary>
    public const int LargeBlockQ = 128;
    public const int SmallBlockQ = 64;

    /// <summary>
    /// Tuning knob for benchmarking tile shapes on a new machine: FLASHATTN_CPU_QUERY_BLOCK = 64, 128 or 256 fixes the
    /// query rows per task. Unset (the default), the size follows the task count as above.
    /// </summary>
    private static readonly int? QueryBlockOverride =
        int.TryParse(Environment.GetEnvironmentVariable("FLASHATTN_CPU_QUERY_BLOCK"), out int rows) && rows is 64 or 128 or 256 ? rows : null;
    public const int BlockK = 64;

    // q [total_q, H, D], k/v [total_k, Hkv, D] → output [total_q, H, D], lse (dense [B, H, Nq] / packed [H, total_q]),
    // softmax [B, H, max_Nq, max_Nk] when requested.
    public static void Run<T, TScore, TMask, TRule>(AttentionProblem p, ForwardTensors<T> t, TScore score, TMask mask, TRule rule)
        where T : unmanaged
        where TScore : struct, IScoreMod
        where TMask : struct, IMaskMod
        where TRule : struct, IShiftRule
    {
        if (t.Softmax != null && p.Packed)
            new Span<float>(t.Softmax, checked((int)p.SoftmaxLength)).Clear();

        int largeTasks = 0;
        for (int b = 0; b < p.Batch; b++)
            largeTasks += BlockInfo.BlockCount(p.SeqQ(b), LargeBlockQ) * p.Heads;
        int blockQ = largeTasks >= 4 * p.Threads ? LargeBlockQ : SmallBlockQ;
        if (QueryBlockOverride is int forced)
            blockQ = forced;
        var blocksBefore = new int[p.Batch + 1];
        for (int b = 0; b < p.Batch; b++)
            blocksBefore[b + 1] = blocksBefore[b] + BlockInfo.BlockCount(p.SeqQ(b), blockQ) * p.Heads;
        int taskCount = blocksBefore[p.Batch];
        if (taskCount == 0)
            return;

        int dp = TileGemm.RoundUp(p.HeadDim, TileGemm.Lanes);
        long scratchFloats = TileScratch.Size(dp * blockQ, BlockK * dp, BlockK * dp, BlockK * blockQ, blockQ * dp, blockQ, blockQ, blockQ, Math.Max(dp, BlockK));
        var shared = ConvertedKeyValues<T>.Create(p, t.K, t.V, dp, BlockK, blockQ);
        WorkerPool.Run(taskCount, p.Threads, () => new Tiles(new TileScratch(scratchFloats), dp, blockQ), (task, tiles) =>
        {
            int b = 0;
            while (blocksBefore[b + 1] <= task)
                b++;
            int local = task - blocksBefore[b];
            int queryBlocks = BlockInfo.BlockCount(p.SeqQ(b), blockQ);
            int h = local / queryBlocks, hk = h / p.GroupSize;
            // The query heads of a key/value head are adjacent, so its tasks are one run of the task order.
            var entry = shared?.Acquire(b, hk, p.GroupSize * queryBlocks);
            // Latest query blocks first: under a causal mask they see the most keys, so the heavy tasks start early.
            QueryBlock(p, t, score, mask, rule, tiles, shared, entry, b, h, queryBlocks - 1 - local % queryBlocks);
            if (entry is not null)
                shared!.Release(entry, b, hk);
        });
        shared?.ReturnBuffers();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void QueryBlock<T, TScore, TMask, TRule>(AttentionProblem p, ForwardTensors<T> t, TScore score, TMask mask, TRule rule,
        Tiles s, ConvertedKeyValues<T>? shared, ConvertedKeyValues<T>.Entry? entry, int b, int h, int qb)
        where T : unmanaged
        where TScore : struct, IScoreMod
        where TMask : struct, IMaskMod
        where TRule : struct, IShiftRule
    {
        int dp = s.Dp, bq = s.BlockQ, d = p.HeadDim, nq = p.SeqQ(b), nk = p.SeqK(b);
        int i0 = qb * bq, rows = Math.Min(bq, nq - i0), rows4 = TileGemm.RoundUp(rows, 4);
        int hk = h / p.GroupSize;

        TileLoad.QueryTransposed(p, t.Q, b, h, i0, rows, s.Qt, bq, s.Row);
        for (int r = 0; r < bq; r++)
        {
            s.M[r] = rule.Initial;
            s.L[r] = 0f;
        }
        new Span<float>(s.Acc, bq * dp).Clear();

        var (first, end) = p.HasWindow
            ? BlockInfo.KeyBlocks(p.WindowLeft, p.WindowRight, i0, i0 + rows, nq, nk, BlockK)
            : (0, BlockInfo.BlockCount(nk, BlockK));
        bool lookahead = Sharing.Lookahead;
        for (int kb = first; kb < end; kb++)
        {
            int j0 = kb * BlockK, cols = Math.Min(BlockK, nk - j0);
            var coverage = mask.Classify(new TileBounds(b, h, i0, i0 + rows, j0, j0 + cols, nq, nk));
            if (coverage == BlockCoverage.Empty)
                continue;
            float* kTile = s.K, vTile = s.V;
            if (entry is not null)
            {
                shared!.EnsureTile(entry, b, hk, kb, cols);
                if (lookahead && kb + 1 < end)
                    shared.Prefetch(entry, b, hk, kb + 1, Math.Min(BlockK, nk - (kb + 1) * BlockK));
                kTile = entry.K + (long)j0 * dp;
                vTile = entry.V + (long)j0 * dp;
            }
            else
            {
                TileLoad.Rows(p, t.K, b, hk, j0, cols, s.K, dp, normalize: true);
                TileLoad.Rows(p, t.V, b, hk, j0, cols, s.V, dp, normalize: false);
            }

            // Sᵀ[keys × queries] = K · Qᵀ
            TileGemm.Multiply(kTile, dp, 1, s.Qt, s.BlockQ, s.St, s.BlockQ, TileGemm.RoundUp(cols, 4), s.BlockQ, d, accumulate: false);
            ModifyColumns(p, score, mask, coverage, s, b, h, i0, rows, j0, cols, nq, nk);
            OnlineSoftmax(rule, s, cols);
            for (int r = 0; r < rows; r++)
                if (s.Alpha[r] != 1f)
                    RowMath.Scale(s.Acc + r * dp, dp, s.Alpha[r]);
            if (p.Dropout.Enabled)
                for (int r = 0; r < rows; r++)
                    p.Dropout.ZeroDropped(s.St + r, bq, cols, b, h, i0 + r, j0);

            // O[queries × D] += P · V, reading P = (Sᵀ)ᵀ in place
            TileGemm.Multiply(s.St, 1, bq, vTile, dp, s.Acc, dp, rows4, dp, cols, accumulate: true);
        }

        float keepScale = p.Dropout.Enabled ? p.Dropout.KeepScale : 1f;
        for (int r = 0; r < rows; r++)
        {
            float l = s.L[r];
            float* o = s.Acc + r * dp;
            // l == 0 only when every key was masked; a NaN input makes l NaN, and NaN must reach O and LSE as in PyTorch.
            if (l != 0f)
            {
                RowMath.Scale(o, d, keepScale / l);
                s.L[r] = s.M[r] + MathF.Log(l);
            }
            else
            {
                new Span<float>(o, d).Clear();
                s.L[r] = float.PositiveInfinity; // a row that sees no key: output 0, LSE +∞ (FlashAttention's convention)
            }
            Elements.FromFloat(o, t.Output + p.QOffset(b, i0 + r, h), d);
            t.Lse[p.LseIndex(b, h, i0 + r)] = s.L[r];
        }

        if (t.Softmax != null)
            WriteProbabilities(p, t, score, mask, s, b, h, i0, rows);
    }

    /// <summary>
    /// Applies the score modifier and, on partial tiles, the mask, one query (a column of Sᵀ) at a time; without a score
    /// modifier the built-in masks work on Sᵀ directly (<see cref="MaskTransposed{TMask}"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ModifyColumns<TScore, TMask>(AttentionProblem p, TScore score, TMask mask, BlockCoverage coverage, Tiles s,
        int b, int h, int i0, int rows, int j0, int cols, int nq, int nk)
        where TScore : struct, IScoreMod
        where TMask : struct, IMaskMod
    {
        bool modify = typeof(TScore) != typeof(NoScoreMod);
        if (!modify && coverage == BlockCoverage.Full)
            return;
        if (!modify && MaskTransposed(mask, s, b, i0, rows, j0, cols, nq, nk))
            return;
        var row = new Span<float>(s.Row, cols);
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
                row[c] = s.St[c * s.BlockQ + r];
            var at = new ScorePosition(b, h, i0 + r, j0, nq, nk);
            if (modify)
                score.ApplyRow(row, default, at);
            if (coverage == BlockCoverage.Partial)
                mask.ApplyRow(row, at);
            for (int c = 0; c < cols; c++)
                s.St[c * s.BlockQ + r] = row[c];
        }
    }

    /// <summary>
    /// The built-in masks applied to Sᵀ as it is (key rows, query columns): true when <typeparamref name="TMask"/> is one of
    /// them. The type tests are constants of the specialised method, so only the taken branch is compiled. A caller's
    /// mask only knows rows of keys (<see cref="IMaskMod.ApplyRow"/>) and goes through <see cref="ModifyColumns"/>'s
    /// gather instead.
    /// </summary>
    // Sᵀ [cols, BlockQ]: keys j0 … j0 + cols − 1 × queries i0 … i0 + rows − 1 of sequence b.
    private static bool MaskTransposed<TMask>(TMask mask, Tiles s, int b, int i0, int rows, int j0, int cols, int nq, int nk)
        where TMask : struct, IMaskMod
    {
        if (typeof(TMask) == typeof(LocalWindowMask))
        {
            Unsafe.As<TMask, LocalWindowMask>(ref mask).ApplyTransposed(s.St, s.BlockQ, cols, rows, j0, i0, nq, nk);
            return true;
        }
        if (typeof(TMask) == typeof(KeyPaddingMask))
        {
            Unsafe.As<TMask, KeyPaddingMask>(ref mask).ApplyTransposed(s.St, s.BlockQ, cols, rows, b, j0);
            return true;
        }
        if (typeof(TMask) == typeof(CombinedMask<LocalWindowMask, KeyPaddingMask>))
        {
            ref var both = ref Unsafe.As<TMask, CombinedMask<LocalWindowMask, KeyPaddingMask>>(ref mask);
            both.First.ApplyTransposed(s.St, s.BlockQ, cols, rows, j0, i0, nq, nk);
            both.Second.ApplyTransposed(s.St, s.BlockQ, cols, rows, b, j0);
            return true;
        }
        return false;
    }

    /// <summary>
    /// Column-wise online softmax over Sᵀ[0..cols): updates the shift M and the sum L of every query, turns scores into
    /// P = exp(S − M), and leaves in Alpha the factor exp(M_old − M_new) by which each query's accumulator must shrink.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void OnlineSoftmax<TRule>(TRule rule, Tiles s, int cols) where TRule : struct, IShiftRule
    {
        int bq = s.BlockQ;
        if (Vector512.IsHardwareAccelerated)
        {
            var negInf = Vector512.Create(float.NegativeInfinity);
            for (int i = 0; i < bq; i += 16)
            {
                var mOld = Vector512.Load(s.M + i);
                var mNew = mOld;
                if (rule.TracksMax)
                {
                    var max = negInf;
                    for (int c = 0; c < cols; c++)
                        max = Vector512.MaxNative(max, Vector512.Load(s.St + c * bq + i));
                    mNew = Vector512.Max(mOld, max);
                }
                // A query that has seen only masked keys keeps M = −∞; shifting by 0 then maps its −∞ scores to 0.
                var shift = Vector512.ConditionalSelect(Vector512.Equals(mNew, negInf), Vector512<float>.Zero, mNew);
                var sum = Vector512<float>.Zero;
                for (int c = 0; c < cols; c++)
                {
                    float* x = s.St + c * bq + i;
                    var e = FastExp.Exp(Vector512.Load(x) - shift);
                    e.Store(x);
                    sum += e;
                }
                var alpha = rule.TracksMax ? FastExp.Exp(mOld - shift) : Vector512<float>.One;
                (Vector512.Load(s.L + i) * alpha + sum).Store(s.L + i);
                mNew.Store(s.M + i);
                alpha.Store(s.Alpha + i);
            }
            return;
        }
        var negInf8 = Vector256.Create(float.NegativeInfinity);
        for (int i = 0; i < bq; i += 8)
        {
            var mOld = Vector256.Load(s.M + i);
            var mNew = mOld;
            if (rule.TracksMax)
            {
                var max = negInf8;
                for (int c = 0; c < cols; c++)
                    max = Vector256.MaxNative(max, Vector256.Load(s.St + c * bq + i));
                mNew = Vector256.Max(mOld, max);
            }
            var shift = Vector256.ConditionalSelect(Vector256.Equals(mNew, negInf8), Vector256<float>.Zero, mNew);
            var sum = Vector256<float>.Zero;
            for (int c = 0; c < cols; c++)
            {
                float* x = s.St + c * bq + i;
                var e = FastExp.Exp(Vector256.Load(x) - shift);
                e.Store(x);
                sum += e;
            }
            var alpha = rule.TracksMax ? FastExp.Exp(mOld - shift) : Vector256<float>.One;
            (Vector256.Load(s.L + i) * alpha + sum).Store(s.L + i);
            mNew.Store(s.M + i);
            alpha.Store(s.Alpha + i);
        }
    }

    /// <summary>
    /// The returned softmax: a second sweep over every key block, recomputing P = exp(S − LSE) with the final LSE and
    /// writing |P| with the sign bit set where dropout dropped the entry. Only runs when the caller asked for it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WriteProbabilities<T, TScore, TMask>(AttentionProblem p, ForwardTensors<T> t, TScore score, TMask mask, Tiles s,
        int b, int h, int i0, int rows)
        where T : unmanaged
        where TScore : struct, IScoreMod
        where TMask : struct, IMaskMod
    {
        int d = p.HeadDim, dp = s.Dp, nq = p.SeqQ(b), nk = p.SeqK(b), hk = h / p.GroupSize;
        for (int kb = 0; kb < BlockInfo.BlockCount(nk, BlockK); kb++)
        {
            int j0 = kb * BlockK, cols = Math.Min(BlockK, nk - j0);
            var coverage = mask.Classify(new TileBounds(b, h, i0, i0 + rows, j0, j0 + cols, nq, nk));
            if (coverage == BlockCoverage.Empty)
            {
                for (int c = 0; c < cols; c++)
                    for (int r = 0; r < rows; r++)
                        s.St[c * s.BlockQ + r] = float.NegativeInfinity; // exp(−∞ − LSE) = 0
            }
            else
            {
                TileLoad.Rows(p, t.K, b, hk, j0, cols, s.K, dp, normalize: true);
                TileGemm.Multiply(s.K, dp, 1, s.Qt, s.BlockQ, s.St, s.BlockQ, TileGemm.RoundUp(cols, 4), s.BlockQ, d, accumulate: false);
                ModifyColumns(p, score, mask, coverage, s, b, h, i0, rows, j0, cols, nq, nk);
            }
            for (int r = 0; r < rows; r++)
            {
                float* dst = t.Softmax + p.SoftmaxIndex(b, h, i0 + r, j0);
                float lse = s.L[r];
                for (int c = 0; c < cols; c++)
                    dst[c] = MathF.Exp(s.St[c * s.BlockQ + r] - lse);
                if (p.Dropout.Enabled)
                    p.Dropout.MarkDropped(dst, 1, cols, b, h, i0 + r, j0);
            }
        }
    }

    /// <summary>The tiles of one worker, carved from its scratch.</summary>
    private sealed class Tiles
    {
        private readonly TileScratch _owner; // keeps the pinned storage alive
        public readonly int Dp, BlockQ;
        public readonly float* Qt, K, V, St, Acc, M, L, Alpha, Row;

        public Tiles(TileScratch scratch, int dp, int blockQ)
        {
            _owner = scratch;
            Dp = dp;
            BlockQ = blockQ;
            Qt = scratch.Take(dp * BlockQ);
            K = scratch.Take(BlockK * dp);
            V = scratch.Take(BlockK * dp);
            St = scratch.Take(BlockK * BlockQ);
            Acc = scratch.Take(BlockQ * dp);
            M = scratch.Take(BlockQ);
            L = scratch.Take(BlockQ);
            Alpha = scratch.Take(BlockQ);
            Row = scratch.Take(Math.Max(dp, BlockK));
        }
    }
}
