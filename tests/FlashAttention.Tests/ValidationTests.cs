using Xunit;

namespace FlashAttention.Tests;

/// <summary>
/// Bad inputs fail before any work: an ArgumentException whose ParamName is the offending argument (and whose message
/// states what was expected), and every output still holds the sentinel the test pre-filled.
/// </summary>
public class ValidationTests
{
    private const float Sentinel = 12345.678f;
    private static readonly AttentionShape Shape = new(2, 5, 7, 4, 2, 8);

    private static float[] Filled(long n)
    {
        var x = new float[n];
        Array.Fill(x, Sentinel);
        return x;
    }

    private static void AssertUntouched(float[] x, string name)
    {
        for (int i = 0; i < x.Length; i++)
            Assert.True(BitConverter.SingleToUInt32Bits(x[i]) == BitConverter.SingleToUInt32Bits(Sentinel), $"{name}[{i}] was written: {x[i]}");
    }

    /// <summary>All tensors of a call, correctly sized; outputs hold the sentinel.</summary>
    private sealed class Tensors
    {
        public float[] Q, K, V, Output, Lse, Softmax, DOutput, DQ, DK, DV;

        public Tensors(long query, long keyValue, long lse, long softmax)
        {
            Q = TestData.Random(query, 1);
            K = TestData.Random(keyValue, 2);
            V = TestData.Random(keyValue, 3);
            DOutput = TestData.Random(query, 4);
            Output = Filled(query);
            Lse = Filled(lse);
            Softmax = Filled(softmax);
            DQ = Filled(query);
            DK = Filled(keyValue);
            DV = Filled(keyValue);
        }

        public Tensors(AttentionShape s) : this(s.QueryLength, s.KeyValueLength, s.LseLength, s.SoftmaxLength) { }

        public Tensors(VarlenLayout l) : this(l.QueryLength, l.KeyValueLength, l.LseLength, l.SoftmaxLength) { }

        /// <summary>Resizes one tensor by <paramref name="delta"/> elements (a resized output keeps the sentinel); returns its correct length.</summary>
        public long Resize(string name, int delta)
        {
            ref float[] field = ref Field(name);
            long length = field.Length;
            var resized = Filled(length + delta);
            Array.Copy(field, resized, Math.Min(length, length + delta));
            field = resized;
            return length;
        }

        private ref float[] Field(string name)
        {
            switch (name)
            {
                case "q": return ref Q;
                case "k": return ref K;
                case "v": return ref V;
                case "output": return ref Output;
                case "lse": return ref Lse;
                case "softmax": return ref Softmax;
                case "dOutput": return ref DOutput;
                case "dq": return ref DQ;
                case "dk": return ref DK;
                default: return ref DV;
            }
        }

        public void AssertForwardOutputsUntouched()
        {
            AssertUntouched(Output, "output");
            AssertUntouched(Lse, "lse");
            AssertUntouched(Softmax, "softmax");
        }

        public void AssertBackwardOutputsUntouched()
        {
            AssertUntouched(DQ, "dq");
            AssertUntouched(DK, "dk");
            AssertUntouched(DV, "dv");
        }

        /// <summary>For backward calls output and lse are inputs: fill them with a valid forward result.</summary>
        public void ComputeForward(AttentionShape s)
        {
            Attention.Forward<float>(s, Q, K, V, Output, Lse);
        }
    }

    public static TheoryData<string, int> ForwardArguments()
    {
        var data = new TheoryData<string, int>();
        foreach (var name in new[] { "q", "k", "v", "output", "lse", "softmax" })
            foreach (int delta in new[] { -1, 1 })
                data.Add(name, delta);
        return data;
    }

    public static TheoryData<string, int> BackwardArguments()
    {
        var data = new TheoryData<string, int>();
        foreach (var name in new[] { "q", "k", "v", "output", "lse", "dOutput", "dq", "dk", "dv" })
            foreach (int delta in new[] { -1, 1 })
                data.Add(name, delta);
        return data;
    }

    [Theory]
    [MemberData(nameof(ForwardArguments))]
    public void Forward_WrongSpanLength_NamesArgument_WritesNothing(string name, int delta)
    {
        var t = new Tensors(Shape);
        long expected = t.Resize(name, delta);
        var ex = Assert.Throws<ArgumentException>(() => Attention.Forward<float>(Shape, t.Q, t.K, t.V, t.Output, t.Lse, null, t.Softmax));
        Assert.Equal(name, ex.ParamName);
        Assert.Contains(expected.ToString(), ex.Message);
        t.AssertForwardOutputsUntouched();
    }

    [Theory]
    [MemberData(nameof(ForwardArguments))]
    public void ForwardVarlen_WrongSpanLength_NamesArgument_WritesNothing(string name, int delta)
    {
        var layout = new VarlenLayout([0, 3, 3, 10], [0, 4, 9, 9], 4, 2, 8);
        var t = new Tensors(layout);
        long expected = t.Resize(name, delta);
        var ex = Assert.Throws<ArgumentException>(() => Attention.ForwardVarlen<float>(layout, t.Q, t.K, t.V, t.Output, t.Lse, null, t.Softmax));
        Assert.Equal(name, ex.ParamName);
        Assert.Contains(expected.ToString(), ex.Message);
        t.AssertForwardOutputsUntouched();
    }

    [Theory]
    [MemberData(nameof(BackwardArguments))]
    public void Backward_WrongSpanLength_NamesArgument_WritesNothing(string name, int delta)
    {
        var t = new Tensors(Shape);
        t.ComputeForward(Shape);
        long expected = t.Resize(name, delta);
        var ex = Assert.Throws<ArgumentException>(() =>
            Attention.Backward<float>(Shape, t.Q, t.K, t.V, t.Output, t.Lse, t.DOutput, t.DQ, t.DK, t.DV));
        Assert.Equal(name, ex.ParamName);
        Assert.Contains(expected.ToString(), ex.Message);
        t.AssertBackwardOutputsUntouched();
    }

    [Theory]
    [MemberData(nameof(BackwardArguments))]
    public void BackwardVarlen_WrongSpanLength_NamesArgument_WritesNothing(string name, int delta)
    {
        var layout = new VarlenLayout([0, 3, 3, 10], [0, 4, 9, 9], 4, 2, 8);
        var t = new Tensors(layout);
        Attention.ForwardVarlen<float>(layout, t.Q, t.K, t.V, t.Output, t.Lse);
        long expected = t.Resize(name, delta);
        var ex = Assert.Throws<ArgumentException>(() =>
            Attention.BackwardVarlen<float>(layout, t.Q, t.K, t.V, t.Output, t.Lse, t.DOutput, t.DQ, t.DK, t.DV));
        Assert.Equal(name, ex.ParamName);
        Assert.Contains(expected.ToString(), ex.Message);
        t.AssertBackwardOutputsUntouched();
    }

    /// <summary>Options that no call can honour; each must be refused as "options" by forward, backward and the varlen calls.</summary>
    public static TheoryData<string> BadOptions() => new(BadOptionNames);

    private static readonly string[] BadOptionNames =
    [
        "dropout 1", "dropout 1.5", "dropout -0.1", "dropout NaN", "softcap NaN", "softcap -1", "softcap +inf", "scale NaN",
        "scale inf", "window left -2", "window right -5", "causal with right 1", "alibi wrong length", "alibi NaN slope",
        "keymask wrong length", "cosine groups 3 of 8", "cosine groups 0", "cosine with alibi", "cosine scale 0",
        "cosine scale NaN", "cosine bound 41", "cosine groups × scale > 40", "threads 0", "threads -2", "unknown variant",
    ];

    private static AttentionOptions Bad(string name, int batch, int heads, int maxSeqK) => name switch
    {
        "dropout 1" => new AttentionOptions { DropoutP = 1f },
        "dropout 1.5" => new AttentionOptions { DropoutP = 1.5f },
        "dropout -0.1" => new AttentionOptions { DropoutP = -0.1f },
        "dropout NaN" => new AttentionOptions { DropoutP = float.NaN },
        "softcap NaN" => new AttentionOptions { Softcap = float.NaN },
        "softcap -1" => new AttentionOptions { Softcap = -1f },
        "softcap +inf" => new AttentionOptions { Softcap = float.PositiveInfinity },
        "scale NaN" => new AttentionOptions { Scale = float.NaN },
        "scale inf" => new AttentionOptions { Scale = float.PositiveInfinity },
        "window left -2" => new AttentionOptions { WindowLeft = -2 },
        "window right -5" => new AttentionOptions { WindowRight = -5 },
        "causal with right 1" => new AttentionOptions { Causal = true, WindowRight = 1 },
        "alibi wrong length" => new AttentionOptions { AlibiSlopes = new float[heads + 1] },
        "alibi NaN slope" => new AttentionOptions { AlibiSlopes = Enumerable.Repeat(float.NaN, heads).ToArray() },
        "keymask wrong length" => new AttentionOptions { KeyPaddingMask = new bool[batch * maxSeqK + 1] },
        "cosine groups 3 of 8" => new AttentionOptions { Variant = AttentionVariant.Cosine, CosineGroups = 3 },
        "cosine groups 0" => new AttentionOptions { Variant = AttentionVariant.Cosine, CosineGroups = 0 },
        "cosine with alibi" => new AttentionOptions { Variant = AttentionVariant.Cosine, AlibiSlopes = new float[heads] },
        "cosine scale 0" => new AttentionOptions { Variant = AttentionVariant.Cosine, CosineScale = 0f },
        "cosine scale NaN" => new AttentionOptions { Variant = AttentionVariant.Cosine, CosineScale = float.NaN },
        "cosine bound 41" => new AttentionOptions { Variant = AttentionVariant.Cosine, CosineScale = 41f },
        "cosine groups × scale > 40" => new AttentionOptions { Variant = AttentionVariant.Cosine, CosineScale = 10f, CosineGroups = 8 },
        "threads 0" => new AttentionOptions { MaxDegreeOfParallelism = 0 },
        "threads -2" => new AttentionOptions { MaxDegreeOfParallelism = -2 },
        "unknown variant" => new AttentionOptions { Variant = (AttentionVariant)7 },
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void BadOptions_Rejected_WritesNothing(string name)
    {
        var t = new Tensors(Shape);
        var bad = Bad(name, Shape.Batch, Shape.Heads, Shape.SeqLenK);
        var ex = Assert.Throws<ArgumentException>(() => Attention.Forward<float>(Shape, t.Q, t.K, t.V, t.Output, t.Lse, bad, t.Softmax));
        Assert.Equal("options", ex.ParamName);
        t.AssertForwardOutputsUntouched();

        var forward = new Tensors(Shape);
        forward.ComputeForward(Shape);
        ex = Assert.Throws<ArgumentException>(() =>
            Attention.Backward<float>(Shape, forward.Q, forward.K, forward.V, forward.Output, forward.Lse, forward.DOutput, forward.DQ, forward.DK, forward.DV, bad));
        Assert.Equal("options", ex.ParamName);
        forward.AssertBackwardOutputsUntouched();

        var layout = new VarlenLayout([0, 3, 10], [0, 4, 9], 4, 2, 8);
        var packed = new Tensors(layout);
        var badPacked = Bad(name, layout.Batch, layout.Heads, layout.MaxSeqLenK);
        ex = Assert.Throws<ArgumentException>(() => Attention.ForwardVarlen<float>(layout, packed.Q, packed.K, packed.V, packed.Output, packed.Lse, badPacked, packed.Softmax));
        Assert.Equal("options", ex.ParamName);
        packed.AssertForwardOutputsUntouched();
        ex = Assert.Throws<ArgumentException>(() =>
            Attention.BackwardVarlen<float>(layout, packed.Q, packed.K, packed.V, packed.Q, Filled(layout.LseLength), packed.DOutput, packed.DQ, packed.DK, packed.DV, badPacked));
        Assert.Equal("options", ex.ParamName);
        packed.AssertBackwardOutputsUntouched();

        // The reference validates the same way (it shares the option resolution).
        Assert.Throws<ArgumentException>(() => ReferenceAttention.Forward<float>(Shape, t.Q, t.K, t.V, bad));
    }

    /// <summary>Varlen key padding is [batch, max_seqlen_k], not [total_k].</summary>
    [Fact]
    public void Varlen_KeyPaddingMask_MustBeBatchByMaxSeqLenK()
    {
        var layout = new VarlenLayout([0, 3, 10], [0, 4, 9], 2, 2, 8);
        var t = new Tensors(layout);
        var ex = Assert.Throws<ArgumentException>(() => Attention.ForwardVarlen<float>(layout, t.Q, t.K, t.V, t.Output, t.Lse,
            new AttentionOptions { KeyPaddingMask = new bool[layout.TotalK] }));
        Assert.Equal("options", ex.ParamName);
        Attention.ForwardVarlen<float>(layout, t.Q, t.K, t.V, t.Output, t.Lse, new AttentionOptions { KeyPaddingMask = Enumerable.Repeat(true, 2 * 5).ToArray() });
    }

    public static TheoryData<int, int, int, int, int, int> BadShapes() => new()
    {
        { 1, 4, 4, 3, 2, 8 },    // heads not divisible by kvHeads
        { 1, 4, 4, 2, 4, 8 },    // more kv heads than heads
        { 1, 4, 4, 2, 2, 0 },    // headDim 0
        { 1, 4, 4, 2, 2, 257 },  // headDim 257
        { 1, 4, 4, 2, 2, -1 },
        { 0, 4, 4, 2, 2, 8 },    // no batch
        { -1, 4, 4, 2, 2, 8 },
        { 1, 4, 4, 0, 1, 8 },    // no heads
        { 1, 4, 4, 2, 0, 8 },    // no kv heads
        { 1, -1, 4, 2, 2, 8 },   // negative lengths
        { 1, 4, -3, 2, 2, 8 },
    };

    [Theory]
    [MemberData(nameof(BadShapes))]
    public void BadShape_Rejected_AsShape(int batch, int nq, int nk, int heads, int kvHeads, int d)
    {
        var s = new AttentionShape(batch, nq, nk, heads, kvHeads, d);
        var output = Filled(64);
        var lse = Filled(16);
        var ex = Assert.Throws<ArgumentException>(() => Attention.Forward<float>(s, new float[64], new float[64], new float[64], output, lse));
        Assert.Equal("shape", ex.ParamName);
        AssertUntouched(output, "output");
        AssertUntouched(lse, "lse");
        var dq = Filled(64);
        ex = Assert.Throws<ArgumentException>(() => Attention.Backward<float>(s, new float[64], new float[64], new float[64], new float[64], new float[16], new float[64], dq, new float[64], new float[64]));
        Assert.Equal("shape", ex.ParamName);
        AssertUntouched(dq, "dq");
    }

    [Fact]
    public void HeadDimBounds_OneAnd256_Accepted()
    {
        foreach (int d in new[] { 1, 256 })
        {
            var s = new AttentionShape(1, 2, 3, 1, 1, d);
            Attention.Forward<float>(s, new float[s.QueryLength], new float[s.KeyValueLength], new float[s.KeyValueLength], new float[s.QueryLength], new float[s.LseLength]);
        }
    }

    public static TheoryData<int[], int[], int, int, int, string> BadLayouts() => new()
    {
        { [1, 3, 5], [0, 3, 5], 2, 2, 8, "cuSeqlensQ" },      // not starting at 0
        { [0, 3, 5], [2, 3, 5], 2, 2, 8, "cuSeqlensK" },
        { [0, 5, 3], [0, 3, 5], 2, 2, 8, "cuSeqlensQ" },      // decreasing
        { [0, 3, 5], [0, 6, 5], 2, 2, 8, "cuSeqlensK" },
        { [0, 3, 5], [0, 3, 5, 7], 2, 2, 8, "cuSeqlensK" },   // different batch sizes
        { [0, 3, 5, 7], [0, 3, 5], 2, 2, 8, "cuSeqlensK" },
        { [0], [0], 2, 2, 8, "cuSeqlensQ" },                  // fewer than batch+1 ≥ 2 entries
        { [], [], 2, 2, 8, "cuSeqlensQ" },
        { [0, 3], [0, 3], 3, 2, 8, "kvHeads" },               // heads not divisible
        { [0, 3], [0, 3], 2, 2, 0, "headDim" },
        { [0, 3], [0, 3], 2, 2, 257, "headDim" },
        { [0, 3], [0, 3], 0, 1, 8, "heads" },
        { [0, 3], [0, 3], 2, 0, 8, "kvHeads" },
    };

    [Theory]
    [MemberData(nameof(BadLayouts))]
    public void BadVarlenLayout_Rejected(int[] cuQ, int[] cuK, int heads, int kvHeads, int d, string param)
    {
        var ex = Assert.Throws<ArgumentException>(() => new VarlenLayout(cuQ, cuK, heads, kvHeads, d));
        Assert.Equal(param, ex.ParamName);
    }

    [Fact]
    public void NullLayout_Rejected()
    {
        var ex = Assert.Throws<ArgumentNullException>(() => Attention.ForwardVarlen<float>(null!, [], [], [], [], []));
        Assert.Equal("layout", ex.ParamName);
    }

    /// <summary>Element types other than float, Half and BFloat16 are refused up front, before anything is written.</summary>
    [Fact]
    public void UnsupportedElementType_NotSupported_WritesNothing()
    {
        var s = new AttentionShape(1, 3, 4, 1, 1, 4);
        var output = Enumerable.Repeat(7.0, (int)s.QueryLength).ToArray();
        var lse = Filled(s.LseLength);
        Assert.Throws<NotSupportedException>(() => Attention.Forward<double>(s, new double[s.QueryLength], new double[s.KeyValueLength], new double[s.KeyValueLength], output, lse));
        Assert.All(output, x => Assert.Equal(7.0, x));
        AssertUntouched(lse, "lse");

        var dq = Enumerable.Repeat(7.0, (int)s.QueryLength).ToArray();
        Assert.Throws<NotSupportedException>(() => Attention.Backward<double>(s, new double[s.QueryLength], new double[s.KeyValueLength], new double[s.KeyValueLength],
            new double[s.QueryLength], new float[s.LseLength], new double[s.QueryLength], dq, new double[s.KeyValueLength], new double[s.KeyValueLength]));
        Assert.All(dq, x => Assert.Equal(7.0, x));

        var layout = new VarlenLayout([0, 3], [0, 4], 1, 1, 4);
        Assert.Throws<NotSupportedException>(() => Attention.ForwardVarlen<int>(layout, new int[12], new int[16], new int[16], new int[12], new float[3]));
        Assert.Throws<NotSupportedException>(() => ReferenceAttention.Forward<double>(s, new double[s.QueryLength], new double[s.KeyValueLength], new double[s.KeyValueLength]));
    }
}
