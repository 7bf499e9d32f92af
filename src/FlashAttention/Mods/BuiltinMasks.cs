using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace FlashAttention;

/// <summary>The mask that hides nothing: every tile is Full, so kernels specialised on it do no masking work.</summary>
public readonly struct NoMask : IMaskMod
{
    /// <inheritdoc />
    public bool IsVisible(in ScorePosition at) => true;

    /// <inheritdoc />
    public BlockCoverage Classify(in TileBounds tile) => BlockCoverage.Full;

    /// <inheritdoc />
    public void ApplyRow(Span<float> scores, in ScorePosition rowStart) { }
}

/// <summary>
/// Causal and sliding-window masking, aligned to the bottom-right corner as in FlashAttention ≥ 2.1:
/// query i sees key j when −left ≤ j − (i + seqlen_k − seqlen_q) ≤ right. Causal is (left, 0).
/// A negative bound means unlimited on that side.
/// </summary>
/// <param name="left">Keys visible left of the diagonal; negative for unlimited.</param>
/// <param name="right">Keys visible right of the diagonal; negative for unlimited.</param>
public readonly struct LocalWindowMask(int left, int right) : IMaskMod
{
    /// <summary>Keys visible left of the diagonal; negative for unlimited.</summary>
    public int Left { get; } = left;

    /// <summary>Keys visible right of the diagonal; negative for unlimited.</summary>
    public int Right { get; } = right;

    /// <summary>The causal mask (unlimited left, nothing right of the diagonal).</summary>
    public static LocalWindowMask Causal => new(-1, 0);

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool IsVisible(in ScorePosition at)
    {
        long offset = (long)at.KeyIndex - (at.QueryIndex + at.SeqLenK - at.SeqLenQ);
        return (Left < 0 || offset >= -Left) && (Right < 0 || offset <= Right);
    }

    /// <inheritdoc />
    public BlockCoverage Classify(in TileBounds tile)
    {
        long diagonalShift = tile.SeqLenK - tile.SeqLenQ;
        long minOffset = tile.KeyStart - (tile.QueryEnd - 1 + diagonalShift);
        long maxOffset = tile.KeyEnd - 1 - (tile.QueryStart + diagonalShift);
        if ((Right >= 0 && minOffset > Right) || (Left >= 0 && maxOffset < -Left))
            return BlockCoverage.Empty;
        bool full = (Left < 0 || minOffset >= -Left) && (Right < 0 || maxOffset <= Right);
        return full ? BlockCoverage.Full : BlockCoverage.Partial;
    }

    /// <inheritdoc />
    public void ApplyRow(Span<float> scores, in ScorePosition rowStart)
    {
        long diagonal = (long)rowStart.QueryIndex + rowStart.SeqLenK - rowStart.SeqLenQ - rowStart.KeyIndex;
        int n = scores.Length;
        int firstVisible = Left < 0 ? 0 : (int)Math.Clamp(diagonal - Left, 0, n);
        int endVisible = Right < 0 ? n : (int)Math.Clamp(diagonal + Right + 1, 0, n);
        if (endVisible <= firstVisible)
        {
            scores.Fill(float.NegativeInfinity);
            return;
        }
        scores[..firstVisible].Fill(float.NegativeInfinity);
        scores[endVisible..].Fill(float.NegativeInfinity);
    }

    /// <summary>
    /// The mask on a transposed tile (the CPU forward keeps Sᵀ): row c of <paramref name="tile"/> holds key
    /// <paramref name="keyStart"/> + c against queries <paramref name="queryStart"/> … + <paramref name="queries"/> − 1,
    /// contiguous. Each key row sees one run of queries, so the hidden ones are two vector fills, not a gather per query.
    /// </summary>
    // tile [keys, ld] (ld ≥ queries), keys of one sequence of lengths seqLenQ × seqLenK.
    internal unsafe void ApplyTransposed(float* tile, int ld, int keys, int queries, int keyStart, int queryStart, int seqLenQ, int seqLenK)
    {
        long shift = (long)seqLenK - seqLenQ;
        for (int c = 0; c < keys; c++)
        {
            // Query r sees this key when t − Right ≤ r ≤ t + Left (offset j − (i + shift) within [−Left, Right]).
            long t = keyStart + c - queryStart - shift;
            int first = Right < 0 ? 0 : (int)Math.Clamp(t - Right, 0, queries);
            int end = Left < 0 ? queries : (int)Math.Clamp(t + Left + 1, 0, queries);
            var row = new Span<float>(tile + (nint)c * ld, queries);
            if (end <= first)
            {
                row.Fill(float.NegativeInfinity);
                continue;
            }
            row[..first].Fill(float.NegativeInfinity);
            row[end..].Fill(float.NegativeInfinity);
        }
    }
}

/// <summary>
/// Key padding: per sequence, which keys exist. Built once per call from a [batch, seqlen_k] boolean mask;
/// rows apply it as an additive 0/−∞ bias (one vector add) and tiles classify it from prefix counts in O(1).
/// </summary>
public readonly struct KeyPaddingMask : IMaskMod
{
    private readonly float[] _bias;
    private readonly int[] _keptBefore;
    private readonly int _stride;

    /// <summary>Captures a [batch, stride] mask (<c>true</c> keeps the key).</summary>
    /// <param name="keep">The mask, row-major [batch, stride].</param>
    /// <param name="batch">Number of sequences.</param>
    /// <param name="stride">Keys per sequence in the mask (seqlen_k, or max_seqlen_k for packed calls).</param>
    public KeyPaddingMask(ReadOnlySpan<bool> keep, int batch, int stride)
    {
        if (keep.Length != (long)batch * stride)
            throw new ArgumentException($"Key padding mask must have batch·seqlen_k = {batch}·{stride} = {(long)batch * stride} entries; got {keep.Length}.", nameof(keep));
        _stride = stride;
        _bias = new float[keep.Length];
        _keptBefore = new int[batch * (stride + 1)];
        for (int b = 0; b < batch; b++)
        {
            int kept = 0;
            for (int j = 0; j < stride; j++)
            {
                _keptBefore[b * (stride + 1) + j] = kept;
                bool k = keep[b * stride + j];
                _bias[b * stride + j] = k ? 0f : float.NegativeInfinity;
                kept += k ? 1 : 0;
            }
            _keptBefore[b * (stride + 1) + stride] = kept;
        }
    }

    /// <inheritdoc />
    public bool IsVisible(in ScorePosition at) => _bias[at.Batch * _stride + at.KeyIndex] == 0f;

    /// <inheritdoc />
    public BlockCoverage Classify(in TileBounds tile)
    {
        int row = tile.Batch * (_stride + 1);
        int kept = _keptBefore[row + tile.KeyEnd] - _keptBefore[row + tile.KeyStart];
        return kept == 0 ? BlockCoverage.Empty
            : kept == tile.KeyEnd - tile.KeyStart ? BlockCoverage.Full
            : BlockCoverage.Partial;
    }

    /// <inheritdoc />
    public void ApplyRow(Span<float> scores, in ScorePosition rowStart) =>
        TensorPrimitives.Add(scores, _bias.AsSpan(rowStart.Batch * _stride + rowStart.KeyIndex, scores.Length), scores);

    /// <summary>
    /// The mask on a transposed tile (see <see cref="LocalWindowMask"/>): a padded key hides its whole row of queries.
    /// </summary>
    // tile [keys, ld] (ld ≥ queries), keys keyStart … of sequence batch.
    internal unsafe void ApplyTransposed(float* tile, int ld, int keys, int queries, int batch, int keyStart)
    {
        var bias = _bias.AsSpan(batch * _stride + keyStart, keys);
        for (int c = 0; c < keys; c++)
            if (bias[c] != 0f)
                new Span<float>(tile + (nint)c * ld, queries).Fill(float.NegativeInfinity);
    }
}

/// <summary>Two masks at once: a key is visible when both let it through.</summary>
/// <typeparam name="TFirst">The first mask.</typeparam>
/// <typeparam name="TSecond">The second mask.</typeparam>
/// <param name="first">The first mask.</param>
/// <param name="second">The second mask.</param>
public readonly struct CombinedMask<TFirst, TSecond>(TFirst first, TSecond second) : IMaskMod
    where TFirst : struct, IMaskMod
    where TSecond : struct, IMaskMod
{
    private readonly TFirst _first = first;
    private readonly TSecond _second = second;

    /// <summary>The first mask.</summary>
    internal TFirst First => _first;

    /// <summary>The second mask.</summary>
    internal TSecond Second => _second;

    /// <inheritdoc />
    public bool IsVisible(in ScorePosition at) => _first.IsVisible(at) && _second.IsVisible(at);

    /// <inheritdoc />
    public BlockCoverage Classify(in TileBounds tile)
    {
        var a = _first.Classify(tile);
        if (a == BlockCoverage.Empty)
            return a;
        var b = _second.Classify(tile);
        return b == BlockCoverage.Empty ? b
            : a == BlockCoverage.Full && b == BlockCoverage.Full ? BlockCoverage.Full
            : BlockCoverage.Partial;
    }

    /// <inheritdoc />
    public void ApplyRow(Span<float> scores, in ScorePosition rowStart)
    {
        _first.ApplyRow(scores, rowStart);
        _second.ApplyRow(scores, rowStart);
    }
}
