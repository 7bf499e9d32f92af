namespace FlashAttention;

/// <summary>
/// The shape of a dense (padded) attention call in FlashAttention's layout:
/// q [Batch, SeqLenQ, Heads, HeadDim], k and v [Batch, SeqLenK, KvHeads, HeadDim],
/// output like q, log-sum-exp [Batch, Heads, SeqLenQ], returned softmax [Batch, Heads, SeqLenQ, SeqLenK].
/// </summary>
/// <param name="Batch">Number of sequences.</param>
/// <param name="SeqLenQ">Query tokens per sequence.</param>
/// <param name="SeqLenK">Key/value tokens per sequence.</param>
/// <param name="Heads">Query heads.</param>
/// <param name="KvHeads">Key/value heads; must divide <paramref name="Heads"/> (MQA: 1, GQA: a divisor).</param>
/// <param name="HeadDim">Features per head, 1 to 256.</param>
public readonly record struct AttentionShape(int Batch, int SeqLenQ, int SeqLenK, int Heads, int KvHeads, int HeadDim)
{
    /// <summary>A shape with as many key/value heads as query heads.</summary>
    /// <param name="batch">Number of sequences.</param>
    /// <param name="seqLenQ">Query tokens per sequence.</param>
    /// <param name="seqLenK">Key/value tokens per sequence.</param>
    /// <param name="heads">Heads of q, k and v.</param>
    /// <param name="headDim">Features per head.</param>
    public AttentionShape(int batch, int seqLenQ, int seqLenK, int heads, int headDim)
        : this(batch, seqLenQ, seqLenK, heads, heads, headDim) { }

    /// <summary>Elements of q, of the output and of dq: Batch·SeqLenQ·Heads·HeadDim.</summary>
    public long QueryLength => (long)Batch * SeqLenQ * Heads * HeadDim;

    /// <summary>Elements of k, v, dk and dv: Batch·SeqLenK·KvHeads·HeadDim.</summary>
    public long KeyValueLength => (long)Batch * SeqLenK * KvHeads * HeadDim;

    /// <summary>Elements of the log-sum-exp: Batch·Heads·SeqLenQ.</summary>
    public long LseLength => (long)Batch * Heads * SeqLenQ;

    /// <summary>Elements of the returned softmax: Batch·Heads·SeqLenQ·SeqLenK.</summary>
    public long SoftmaxLength => (long)Batch * Heads * SeqLenQ * SeqLenK;

    /// <inheritdoc />
    public override string ToString() =>
        $"B={Batch} Nq={SeqLenQ} Nk={SeqLenK} H={Heads} Hkv={KvHeads} D={HeadDim}";
}

/// <summary>
/// The layout of a variable-length (packed) call: q [TotalQ, Heads, HeadDim] and k, v [TotalK, KvHeads, HeadDim],
/// where sequence b owns rows cu_seqlens[b] .. cu_seqlens[b+1]. Log-sum-exp is [Heads, TotalQ];
/// the returned softmax is [Batch, Heads, MaxSeqLenQ, MaxSeqLenK], zero outside each sequence.
/// </summary>
public sealed class VarlenLayout
{
    private readonly int[] _cuSeqlensQ;
    private readonly int[] _cuSeqlensK;

    /// <summary>Validates and captures a packed layout.</summary>
    /// <param name="cuSeqlensQ">Cumulative query offsets, batch+1 entries, starting at 0, non-decreasing.</param>
    /// <param name="cuSeqlensK">Cumulative key offsets, batch+1 entries, starting at 0, non-decreasing.</param>
    /// <param name="heads">Query heads.</param>
    /// <param name="kvHeads">Key/value heads (divides <paramref name="heads"/>).</param>
    /// <param name="headDim">Features per head, 1 to 256.</param>
    /// <exception cref="ArgumentException">An offset array is malformed or the head counts do not fit.</exception>
    public VarlenLayout(ReadOnlySpan<int> cuSeqlensQ, ReadOnlySpan<int> cuSeqlensK, int heads, int kvHeads, int headDim)
    {
        ValidateOffsets(cuSeqlensQ, nameof(cuSeqlensQ));
        ValidateOffsets(cuSeqlensK, nameof(cuSeqlensK));
        if (cuSeqlensQ.Length != cuSeqlensK.Length)
            throw new ArgumentException(
                $"cu_seqlens_q has {cuSeqlensQ.Length} entries and cu_seqlens_k has {cuSeqlensK.Length}; both need batch+1.",
                nameof(cuSeqlensK));
        Validation.HeadCounts(heads, kvHeads, headDim);
        _cuSeqlensQ = cuSeqlensQ.ToArray();
        _cuSeqlensK = cuSeqlensK.ToArray();
        Heads = heads;
        KvHeads = kvHeads;
        HeadDim = headDim;
        for (int b = 0; b < Batch; b++)
        {
            MaxSeqLenQ = Math.Max(MaxSeqLenQ, _cuSeqlensQ[b + 1] - _cuSeqlensQ[b]);
            MaxSeqLenK = Math.Max(MaxSeqLenK, _cuSeqlensK[b + 1] - _cuSeqlensK[b]);
        }
    }

    private static void ValidateOffsets(ReadOnlySpan<int> cu, string name)
    {
        if (cu.Length < 2)
            throw new ArgumentException($"{name} needs batch+1 ≥ 2 entries; got {cu.Length}.", name);
        if (cu[0] != 0)
            throw new ArgumentException($"{name}[0] must be 0; got {cu[0]}.", name);
        for (int i = 1; i < cu.Length; i++)
            if (cu[i] < cu[i - 1])
                throw new ArgumentException($"{name} must be non-decreasing; {name}[{i}] = {cu[i]} < {name}[{i - 1}] = {cu[i - 1]}.", name);
    }

    /// <summary>Number of sequences.</summary>
    public int Batch => _cuSeqlensQ.Length - 1;

    /// <summary>Query heads.</summary>
    public int Heads { get; }

    /// <summary>Key/value heads.</summary>
    public int KvHeads { get; }

    /// <summary>Features per head.</summary>
    public int HeadDim { get; }

    /// <summary>All query tokens: the last query offset.</summary>
    public int TotalQ => _cuSeqlensQ[^1];

    /// <summary>All key tokens: the last key offset.</summary>
    public int TotalK => _cuSeqlensK[^1];

    /// <summary>The longest query sequence.</summary>
    public int MaxSeqLenQ { get; }

    /// <summary>The longest key sequence.</summary>
    public int MaxSeqLenK { get; }

    /// <summary>Cumulative query offsets (batch+1 entries).</summary>
    public ReadOnlySpan<int> CuSeqlensQ => _cuSeqlensQ;

    /// <summary>Cumulative key offsets (batch+1 entries).</summary>
    public ReadOnlySpan<int> CuSeqlensK => _cuSeqlensK;

    /// <summary>Elements of q, the output and dq: TotalQ·Heads·HeadDim.</summary>
    public long QueryLength => (long)TotalQ * Heads * HeadDim;

    /// <summary>Elements of k, v, dk and dv: TotalK·KvHeads·HeadDim.</summary>
    public long KeyValueLength => (long)TotalK * KvHeads * HeadDim;

    /// <summary>Elements of the log-sum-exp: Heads·TotalQ.</summary>
    public long LseLength => (long)Heads * TotalQ;

    /// <summary>Elements of the returned softmax: Batch·Heads·MaxSeqLenQ·MaxSeqLenK.</summary>
    public long SoftmaxLength => (long)Batch * Heads * MaxSeqLenQ * MaxSeqLenK;

    internal int[] CuQ => _cuSeqlensQ;
    internal int[] CuK => _cuSeqlensK;
}
