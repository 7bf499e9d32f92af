namespace FlashAttention;

/// <summary>
/// One attention call with its layout and options resolved. Dense calls are the packed layout with equal-length
/// sequences, so every kernel sees one form: sequence b owns query rows CuQ[b]..CuQ[b+1] and key rows CuK[b]..CuK[b+1].
/// </summary>
internal sealed class AttentionProblem
{
    public int Batch { get; }
    public int Heads { get; }
    public int KvHeads { get; }
    public int HeadDim { get; }
    public int MaxSeqQ { get; }
    public int MaxSeqK { get; }
    public int TotalQ { get; }
    public int TotalK { get; }
    public bool Packed { get; }
    public int[] CuQ { get; }
    public int[] CuK { get; }
    public string ShapeText { get; }

    public AttentionVariant Variant { get; private set; }
    /// <summary>Multiplies q·kᵀ: the softmax scale, or the cosine scale.</summary>
    public float Scale { get; private set; }
    public int CosineGroups { get; private set; } = 1;
    public bool L2Normalize { get; private set; }
    /// <summary>Cosine variant: no score exceeds this, so it is the fixed softmax shift.</summary>
    public float ScoreBound { get; private set; }
    public int WindowLeft { get; private set; } = -1;
    public int WindowRight { get; private set; } = -1;
    public bool HasWindow => WindowLeft >= 0 || WindowRight >= 0;
    public float Softcap { get; private set; }
    public float[]? AlibiSlopes { get; private set; }
    public bool AlibiPerBatch { get; private set; }
    public bool[]? KeyMask { get; private set; }
    public DropoutMask Dropout { get; private set; }
    public int Threads { get; private set; }

    public AttentionProblem(AttentionShape shape, AttentionOptions? options)
    {
        Validation.Shape(shape);
        Batch = shape.Batch;
        Heads = shape.Heads;
        KvHeads = shape.KvHeads;
        HeadDim = shape.HeadDim;
        MaxSeqQ = shape.SeqLenQ;
        MaxSeqK = shape.SeqLenK;
        CuQ = new int[Batch + 1];
        CuK = new int[Batch + 1];
        for (int b = 0; b <= Batch; b++)
        {
            CuQ[b] = checked(b * shape.SeqLenQ);
            CuK[b] = checked(b * shape.SeqLenK);
        }
        TotalQ = CuQ[Batch];
        TotalK = CuK[Batch];
        ShapeText = $"q [{Batch}, {MaxSeqQ}, {Heads}, {HeadDim}], k/v [{Batch}, {MaxSeqK}, {KvHeads}, {HeadDim}]";
        Resolve(options ?? AttentionOptions.Default);
    }

    public AttentionProblem(VarlenLayout layout, AttentionOptions? options)
    {
        ArgumentNullException.ThrowIfNull(layout);
        Packed = true;
        Batch = layout.Batch;
        Heads = layout.Heads;
        KvHeads = layout.KvHeads;
        HeadDim = layout.HeadDim;
        MaxSeqQ = layout.MaxSeqLenQ;
        MaxSeqK = layout.MaxSeqLenK;
        CuQ = layout.CuQ;
        CuK = layout.CuK;
        TotalQ = layout.TotalQ;
        TotalK = layout.TotalK;
        ShapeText = $"q [{TotalQ}, {Heads}, {HeadDim}], k/v [{TotalK}, {KvHeads}, {HeadDim}] (packed, batch {Batch})";
        Resolve(options ?? AttentionOptions.Default);
    }

    private void Resolve(AttentionOptions o)
    {
        if (o.WindowLeft < -1 || o.WindowRight < -1)
            throw new ArgumentException($"Window bounds must be ≥ -1 (-1 = unlimited); got ({o.WindowLeft}, {o.WindowRight}).", "options");
        if (o.Causal && o.WindowRight > 0)
            throw new ArgumentException($"Causal attention sees nothing right of the diagonal; WindowRight={o.WindowRight} contradicts it (use -1 or 0).", "options");
        WindowLeft = o.WindowLeft;
        WindowRight = o.Causal ? 0 : o.WindowRight;

        Validation.Finite(o.Softcap, "Softcap");
        if (o.Softcap < 0)
            throw new ArgumentException($"Softcap must be ≥ 0 (0 = off); got {o.Softcap}.", "options");
        Softcap = o.Softcap;

        if (!o.AlibiSlopes.IsEmpty)
        {
            var slopes = o.AlibiSlopes.Span;
            if (slopes.Length != Heads && slopes.Length != (long)Batch * Heads)
                throw new ArgumentException($"AlibiSlopes must have shape [heads] = [{Heads}] or [batch, heads] = [{Batch}, {Heads}]; got {slopes.Length} values.", "options");
            foreach (float s in slopes)
                Validation.Finite(s, "AlibiSlopes");
            AlibiSlopes = slopes.ToArray();
            AlibiPerBatch = slopes.Length != Heads;
        }

        if (!o.KeyPaddingMask.IsEmpty)
        {
            if (o.KeyPaddingMask.Length != (long)Batch * MaxSeqK)
                throw new ArgumentException($"KeyPaddingMask must have shape [batch, {(Packed ? "max_seqlen_k" : "seqlen_k")}] = [{Batch}, {MaxSeqK}]; got {o.KeyPaddingMask.Length} values.", "options");
            KeyMask = o.KeyPaddingMask.ToArray();
        }

        if (float.IsNaN(o.DropoutP) || o.DropoutP < 0 || o.DropoutP >= 1)
            throw new ArgumentException($"DropoutP must be in [0, 1); got {o.DropoutP}.", "options");
        Dropout = new DropoutMask(o.DropoutP, o.Seed, o.Offset, Heads);

        if (o.MaxDegreeOfParallelism == 0 || o.MaxDegreeOfParallelism < -1)
            throw new ArgumentException($"MaxDegreeOfParallelism must be -1 (all cores) or positive; got {o.MaxDegreeOfParallelism}.", "options");
        Threads = o.MaxDegreeOfParallelism == -1 ? Environment.ProcessorCount : o.MaxDegreeOfParallelism;

        Variant = o.Variant;
        if (o.Variant == AttentionVariant.Softmax)
        {
            if (o.Scale is float s)
                Validation.Finite(s, "Scale");
            Scale = o.Scale ?? 1f / MathF.Sqrt(HeadDim);
        }
        else if (o.Variant == AttentionVariant.Cosine)
        {
            Validation.Finite(o.CosineScale, "CosineScale");
            if (o.CosineScale <= 0)
                throw new ArgumentException($"CosineScale must be positive; got {o.CosineScale}.", "options");
            if (o.CosineGroups < 1 || HeadDim % o.CosineGroups != 0)
                throw new ArgumentException($"CosineGroups must be a positive divisor of headDim {HeadDim}; got {o.CosineGroups}.", "options");
            if (AlibiSlopes is not null)
                throw new ArgumentException("ALiBi biases are unbounded, so they cannot be combined with cosine-similarity attention (its kernel relies on bounded scores).", "options");
            Scale = o.CosineScale;
            CosineGroups = o.CosineGroups;
            L2Normalize = o.L2NormalizeQK;
            ScoreBound = o.CosineScale * o.CosineGroups;
            if (Softcap > 0)
                ScoreBound = MathF.Min(ScoreBound, Softcap);
            if (ScoreBound > MaxCosineBound)
                throw new ArgumentException($"Cosine attention bounds every score by CosineScale·CosineGroups = {ScoreBound}; above {MaxCosineBound} exp(score − bound) would underflow in float32.", "options");
        }
        else
        {
            throw new ArgumentException($"Unknown variant {o.Variant}.", "options");
        }
    }

    /// <summary>exp(−2·40) is still a normal float32, so a shift of at most 40 keeps every term representable.</summary>
    public const float MaxCosineBound = 40f;

    public int SeqQ(int b) => CuQ[b + 1] - CuQ[b];
    public int SeqK(int b) => CuK[b + 1] - CuK[b];
    public int GroupSize => Heads / KvHeads;

    public long QOffset(int b, int i, int h) => ((long)(CuQ[b] + i) * Heads + h) * HeadDim;
    public long KOffset(int b, int j, int hk) => ((long)(CuK[b] + j) * KvHeads + hk) * HeadDim;
    public long QRowStride => (long)Heads * HeadDim;
    public long KRowStride => (long)KvHeads * HeadDim;

    /// <summary>Dense: [B, H, Nq]; packed: [H, TotalQ].</summary>
    public long LseIndex(int b, int h, int i) => Packed ? (long)h * TotalQ + CuQ[b] + i : ((long)b * Heads + h) * MaxSeqQ + i;

    /// <summary>[B, H, MaxSeqQ, MaxSeqK].</summary>
    public long SoftmaxIndex(int b, int h, int i, int j) => (((long)b * Heads + h) * MaxSeqQ + i) * MaxSeqK + j;

    public long QueryLength => (long)TotalQ * Heads * HeadDim;
    public long KeyValueLength => (long)TotalK * KvHeads * HeadDim;
    public long LseLength => (long)TotalQ * Heads;
    public long SoftmaxLength => (long)Batch * Heads * MaxSeqQ * MaxSeqK;
}
