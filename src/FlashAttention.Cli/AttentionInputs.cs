namespace FlashAttention.Cli;

/// <summary>
/// The sizes of one call and the shapes of every tensor in it, dense (<see cref="Shape"/>) or packed
/// (<see cref="Layout"/>), in the tool's file layout.
/// </summary>
internal sealed class AttentionGeometry
{
    private AttentionGeometry(AttentionShape shape, VarlenLayout? layout, long[] qShape, long[] kvShape, long[] lseShape, long[] softmaxShape)
    {
        Shape = shape;
        Layout = layout;
        QShape = qShape;
        KvShape = kvShape;
        LseShape = lseShape;
        SoftmaxShape = softmaxShape;
    }

    /// <summary>A dense call.</summary>
    /// <param name="shape">The dense shape.</param>
    public static AttentionGeometry Dense(AttentionShape shape) => new(
        shape, null,
        [shape.Batch, shape.SeqLenQ, shape.Heads, shape.HeadDim],
        [shape.Batch, shape.SeqLenK, shape.KvHeads, shape.HeadDim],
        [shape.Batch, shape.Heads, shape.SeqLenQ],
        [shape.Batch, shape.Heads, shape.SeqLenQ, shape.SeqLenK]);

    /// <summary>A packed call; <see cref="Shape"/> then holds the batch and the longest sequences.</summary>
    /// <param name="layout">The packed layout.</param>
    public static AttentionGeometry Packed(VarlenLayout layout) => new(
        new AttentionShape(layout.Batch, layout.MaxSeqLenQ, layout.MaxSeqLenK, layout.Heads, layout.KvHeads, layout.HeadDim), layout,
        [layout.TotalQ, layout.Heads, layout.HeadDim],
        [layout.TotalK, layout.KvHeads, layout.HeadDim],
        [layout.Heads, layout.TotalQ],
        [layout.Batch, layout.Heads, layout.MaxSeqLenQ, layout.MaxSeqLenK]);

    /// <summary>Dense shape; for a packed call, the batch, longest sequence lengths, heads and head dim.</summary>
    public AttentionShape Shape { get; }

    /// <summary>The packed layout, or null for a dense call.</summary>
    public VarlenLayout? Layout { get; }

    /// <summary>Shape of q, the output, dO and dq.</summary>
    public long[] QShape { get; }

    /// <summary>Shape of k, v, dk and dv.</summary>
    public long[] KvShape { get; }

    /// <summary>Shape of the log-sum-exp: [B, H, Nq], or [H, total_q] when packed.</summary>
    public long[] LseShape { get; }

    /// <summary>Shape of the returned softmax: [B, H, Nq, Nk], or [B, H, max_q, max_k] when packed.</summary>
    public long[] SoftmaxShape { get; }

    /// <summary>One-line summary for the tool's report.</summary>
    public override string ToString() => Layout is null
        ? $"q {Npy.FormatShape(QShape)} k/v {Npy.FormatShape(KvShape)}"
        : $"packed q {Npy.FormatShape(QShape)} k/v {Npy.FormatShape(KvShape)} batch {Layout.Batch}";
}

/// <summary>
/// Loads and checks the input files of an attention call. Every check runs before any computation, and each failure is
/// a one-line <see cref="CliException"/> naming the file, the flag and what that flag expects.
/// </summary>
internal sealed class AttentionInputs
{
    private static readonly NpyDtype[] Floating = [NpyDtype.Float32, NpyDtype.Float16];
    private static readonly NpyDtype[] Float32Only = [NpyDtype.Float32];
    private static readonly NpyDtype[] Offsets = [NpyDtype.Int32, NpyDtype.Int64];
    private static readonly NpyDtype[] MaskTypes = [NpyDtype.Bool, NpyDtype.UInt8, NpyDtype.Int32, NpyDtype.Int64];

    private AttentionInputs(AttentionGeometry geometry, NpyArray q, NpyArray k, NpyArray v, ComputeDtype dtype, AttentionOptions options)
    {
        Geometry = geometry;
        Q = q;
        K = k;
        V = v;
        Dtype = dtype;
        Options = options;
    }

    /// <summary>Sizes and tensor shapes.</summary>
    public AttentionGeometry Geometry { get; }

    /// <summary>The queries as stored.</summary>
    public NpyArray Q { get; }

    /// <summary>The keys as stored.</summary>
    public NpyArray K { get; }

    /// <summary>The values as stored.</summary>
    public NpyArray V { get; }

    /// <summary>The storage type the kernels run on (from <c>--dtype</c>, else that of q).</summary>
    public ComputeDtype Dtype { get; }

    /// <summary>The flags' options plus the loaded ALiBi slopes and key mask.</summary>
    public AttentionOptions Options { get; }

    /// <summary>Loads q, k, v, the sequence offsets, the ALiBi slopes and the key mask, and checks that they fit together.</summary>
    /// <param name="settings">The checked flags.</param>
    public static AttentionInputs Load(AttentionSettings settings)
    {
        var (geometry, q, k, v) = settings.Packed ? LoadPacked(settings) : LoadDense(settings);
        var shape = geometry.Shape;
        var options = settings.Options;

        if (settings.Alibi is string alibiPath)
        {
            string expected = $"[H] = [{shape.Heads}] or [B, H] = [{shape.Batch}, {shape.Heads}]";
            var alibi = Load(alibiPath, "--alibi", expected, Floating);
            bool fits = (alibi.Rank == 1 && alibi.Shape[0] == shape.Heads)
                || (alibi.Rank == 2 && alibi.Shape[0] == shape.Batch && alibi.Shape[1] == shape.Heads);
            if (!fits)
                throw Mismatch(alibi, "--alibi", Floating, expected);
            if (settings.Options.Variant == AttentionVariant.Cosine)
                throw new CliException("--alibi cannot be combined with --variant cosine (ALiBi biases are unbounded; the cosine kernel relies on bounded scores).");
            options = options with { AlibiSlopes = alibi.ToSingle() };
        }

        if (settings.KeyMask is string maskPath)
        {
            string expected = settings.Packed
                ? $"[B, max_k] = [{shape.Batch}, {shape.SeqLenK}]"
                : $"[B, Nk] = [{shape.Batch}, {shape.SeqLenK}]";
            var mask = Load(maskPath, "--key-mask", expected, MaskTypes);
            if (mask.Rank != 2 || mask.Shape[0] != shape.Batch || mask.Shape[1] != shape.SeqLenK)
                throw Mismatch(mask, "--key-mask", MaskTypes, expected);
            options = options with { KeyPaddingMask = mask.ToBool() };
        }

        var dtype = settings.Dtype ?? (q.Dtype == NpyDtype.Float16 ? ComputeDtype.Fp16 : ComputeDtype.Fp32);
        return new AttentionInputs(geometry, q, k, v, dtype, options);
    }

    /// <summary>Loads a floating tensor that must have exactly the shape of q (the forward output, dO).</summary>
    /// <param name="path">The file.</param>
    /// <param name="flag">The flag that named it.</param>
    public NpyArray LoadLikeQ(string path, string flag)
    {
        string expected = Npy.FormatShape(Geometry.QShape) + " (same as q)";
        var a = Load(path, flag, expected, Floating);
        if (!a.Shape.AsSpan().SequenceEqual(Geometry.QShape))
            throw Mismatch(a, flag, Floating, expected);
        return a;
    }

    /// <summary>Loads the forward's log-sum-exp (float32 only: it is stored in float32 whatever the storage type).</summary>
    /// <param name="path">The file.</param>
    /// <param name="flag">The flag that named it.</param>
    public NpyArray LoadLse(string path, string flag)
    {
        string expected = (Geometry.Layout is null ? "[B, H, Nq] = " : "[H, total_q] = ") + Npy.FormatShape(Geometry.LseShape);
        var a = Load(path, flag, expected, Float32Only);
        if (!a.Shape.AsSpan().SequenceEqual(Geometry.LseShape))
            throw Mismatch(a, flag, Float32Only, expected);
        return a;
    }

    private static (AttentionGeometry, NpyArray, NpyArray, NpyArray) LoadDense(AttentionSettings s)
    {
        const string qExpected = "[B, Nq, H, D]";
        var q = Load(s.Q, "--q", qExpected, Floating);
        if (q.Rank != 4)
        {
            string hint = q.Rank == 3 ? " (a rank-3 packed q needs --cu-seqlens-q and --cu-seqlens-k)" : "";
            throw new CliException($"{q.Path}: rank {q.Rank} array of shape {Npy.FormatShape(q.Shape)}; --q expects {Describe(Floating)} {qExpected}{hint}.");
        }
        long batch = q.Shape[0], nq = q.Shape[1], heads = q.Shape[2], d = q.Shape[3];
        CheckHeads(q, "--q", qExpected, heads, d);

        string kExpected = $"[B, Nk, Hkv, D] = [{batch}, Nk, Hkv, {d}] with Hkv dividing H = {heads}";
        var k = Load(s.K, "--k", kExpected, Floating);
        if (k.Rank != 4 || k.Shape[0] != batch || k.Shape[3] != d || k.Shape[2] < 1 || heads % k.Shape[2] != 0)
            throw Mismatch(k, "--k", Floating, kExpected);
        long nk = k.Shape[1], kvHeads = k.Shape[2];

        var v = LoadLikeK(s.V, k);
        var shape = new AttentionShape(ToInt(batch, q), ToInt(nq, q), ToInt(nk, k), ToInt(heads, q), ToInt(kvHeads, k), ToInt(d, q));
        return (AttentionGeometry.Dense(shape), q, k, v);
    }

    private static (AttentionGeometry, NpyArray, NpyArray, NpyArray) LoadPacked(AttentionSettings s)
    {
        var cuQ = LoadOffsets(s.CuSeqlensQ!, "--cu-seqlens-q", null);
        var cuK = LoadOffsets(s.CuSeqlensK!, "--cu-seqlens-k", cuQ.Length);

        int totalQ = cuQ[^1], totalK = cuK[^1];
        string qExpected = $"[total_q, H, D] = [{totalQ}, H, D] (total_q from {s.CuSeqlensQ})";
        var q = Load(s.Q, "--q", qExpected, Floating);
        if (q.Rank != 3 || q.Shape[0] != totalQ)
            throw Mismatch(q, "--q", Floating, qExpected);
        long heads = q.Shape[1], d = q.Shape[2];
        CheckHeads(q, "--q", qExpected, heads, d);

        string kExpected = $"[total_k, Hkv, D] = [{totalK}, Hkv, {d}] with Hkv dividing H = {heads} (total_k from {s.CuSeqlensK})";
        var k = Load(s.K, "--k", kExpected, Floating);
        if (k.Rank != 3 || k.Shape[0] != totalK || k.Shape[2] != d || k.Shape[1] < 1 || heads % k.Shape[1] != 0)
            throw Mismatch(k, "--k", Floating, kExpected);
        var v = LoadLikeK(s.V, k);

        VarlenLayout layout;
        try
        {
            layout = new VarlenLayout(cuQ, cuK, ToInt(heads, q), ToInt(k.Shape[1], k), ToInt(d, q));
        }
        catch (ArgumentException e)
        {
            // The offsets were checked above, so this is the library's view of the head counts; still name the inputs.
            throw new CliException($"{s.Q}, {s.K}: {LibraryErrors.Message(e)}");
        }
        return (AttentionGeometry.Packed(layout), q, k, v);
    }

    private static NpyArray LoadLikeK(string path, NpyArray k)
    {
        string expected = $"{Npy.FormatShape(k.Shape)} (same as k)";
        var v = Load(path, "--v", expected, Floating);
        if (!v.Shape.AsSpan().SequenceEqual(k.Shape))
            throw Mismatch(v, "--v", Floating, expected);
        return v;
    }

    private static int[] LoadOffsets(string path, string flag, int? entries)
    {
        string expected = entries is int n ? $"[B+1] = [{n}] (as many entries as --cu-seqlens-q)" : "[B+1] with B >= 1";
        var a = Load(path, flag, expected, Offsets);
        if (a.Rank != 1 || a.Shape[0] < 2 || (entries is int m && a.Shape[0] != m))
            throw Mismatch(a, flag, Offsets, expected);
        var cu = a.ToInt32();
        if (cu[0] != 0)
            throw new CliException($"{path}: {flag} must start at 0; got {cu[0]}.");
        for (int i = 1; i < cu.Length; i++)
        {
            if (cu[i] < cu[i - 1])
                throw new CliException($"{path}: {flag} must be non-decreasing; entry {i} = {cu[i]} < entry {i - 1} = {cu[i - 1]}.");
        }
        return cu;
    }

    private static void CheckHeads(NpyArray q, string flag, string expected, long heads, long d)
    {
        if (heads < 1 || d < 1 || d > Validation.MaxHeadDim)
            throw new CliException($"{q.Path}: shape {Npy.FormatShape(q.Shape)}; {flag} expects {Describe(Floating)} {expected} with H >= 1 and 1 <= D <= {Validation.MaxHeadDim}.");
    }

    private static int ToInt(long value, NpyArray source) =>
        value <= int.MaxValue ? (int)value : throw new CliException($"{source.Path}: dimension {value} of shape {Npy.FormatShape(source.Shape)} is too large.");

    /// <summary>Reads a file and checks its dtype; a read failure gets the flag's expectation appended.</summary>
    private static NpyArray Load(string path, string flag, string expected, NpyDtype[] allowed)
    {
        NpyArray a;
        try
        {
            a = Npy.Read(path);
        }
        catch (CliException e)
        {
            throw new CliException($"{e.Message.TrimEnd('.')}; {flag} expects {Describe(allowed)} {expected}.");
        }
        if (!allowed.Contains(a.Dtype))
            throw new CliException($"{path}: dtype {Npy.Descr(a.Dtype)}; {flag} expects {Describe(allowed)} {expected}.");
        return a;
    }

    private static CliException Mismatch(NpyArray a, string flag, NpyDtype[] allowed, string expected) =>
        new($"{a.Path}: shape {Npy.FormatShape(a.Shape)}; {flag} expects {Describe(allowed)} {expected}.");

    private static string Describe(NpyDtype[] allowed) => string.Join("/", allowed.Select(Npy.Descr));
}
