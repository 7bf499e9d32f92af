using Xunit;

namespace FlashAttention.Tests;

/// <summary>
/// Packed variable-length calls: ForwardVarlen/BackwardVarlen equal one dense call per sequence (with per-sequence
/// slices of ALiBi [B, H] and the key padding mask), including empty sequences, sequences with queries but no keys and
/// keys but no queries, and causal alignment per sequence; LSE is laid out [H, total_q]; the returned softmax is
/// [B, H, max_Nq, max_Nk] with +0 outside each sequence; dropout matches the varlen reference.
/// </summary>
public class VarlenTests
{
    internal sealed record Packed(int[] QLens, int[] KLens, int Heads, int KvHeads, int HeadDim)
    {
        public int[] CuQ { get; } = Cumulative(QLens);
        public int[] CuK { get; } = Cumulative(KLens);
        public int Batch => QLens.Length;
        public int MaxK => KLens.Max();
        public VarlenLayout Layout => new(CuQ, CuK, Heads, KvHeads, HeadDim);
        public AttentionShape Dense(int b) => new(1, QLens[b], KLens[b], Heads, KvHeads, HeadDim);
        public long QRow => (long)Heads * HeadDim;
        public long KRow => (long)KvHeads * HeadDim;

        private static int[] Cumulative(int[] lengths)
        {
            var cu = new int[lengths.Length + 1];
            for (int b = 0; b < lengths.Length; b++)
                cu[b + 1] = cu[b] + lengths[b];
            return cu;
        }
    }

    internal static readonly Dictionary<string, Packed> Layouts = new()
    {
        // An empty sequence, one with queries but no keys (fully masked), one with keys but no queries, a 1-query one.
        ["ragged"] = new Packed([5, 0, 65, 1, 0, 30], [9, 0, 0, 131, 12, 30], 4, 2, 16),
        // Causal with Nq > Nk in one sequence and Nq < Nk in the other; MQA.
        ["causal mix"] = new Packed([100, 3], [40, 77], 3, 1, 24),
    };

    private static AttentionOptions Options(string name, Packed l) => name switch
    {
        "default" => new AttentionOptions(),
        "scale" => new AttentionOptions { Scale = 0.77f },
        "causal" => new AttentionOptions { Causal = true },
        "window 5,2" => new AttentionOptions { WindowLeft = 5, WindowRight = 2 },
        "softcap" => new AttentionOptions { Softcap = 2.5f },
        "alibi [H]" => new AttentionOptions { AlibiSlopes = OptionsTests.Slopes(l.Heads, 1) },
        "alibi [B,H]" => new AttentionOptions { AlibiSlopes = OptionsTests.Slopes(l.Batch * l.Heads, 2) },
        "keymask" => new AttentionOptions { KeyPaddingMask = TestData.RandomMask(l.Batch, l.MaxK, 3, 0.6) },
        "cosine causal" => new AttentionOptions { Variant = AttentionVariant.Cosine, Causal = true, CosineGroups = 2 },
        "combo" => new AttentionOptions
        {
            Causal = true, WindowLeft = 30, Softcap = 4f, AlibiSlopes = OptionsTests.Slopes(l.Batch * l.Heads, 3),
            KeyPaddingMask = TestData.RandomMask(l.Batch, l.MaxK, 4, 0.8),
        },
        _ => throw new ArgumentException(name),
    };

    /// <summary>The options of sequence b alone: ALiBi [B, H] → its [H] row, key padding [B, max_Nk] → its first Nk_b entries.</summary>
    private static AttentionOptions Slice(AttentionOptions o, Packed l, int b)
    {
        var r = o;
        if (o.AlibiSlopes.Length == l.Batch * l.Heads && l.Batch > 1)
            r = r with { AlibiSlopes = o.AlibiSlopes.Slice(b * l.Heads, l.Heads) };
        if (!o.KeyPaddingMask.IsEmpty)
            r = r with { KeyPaddingMask = o.KeyPaddingMask.Slice(b * l.MaxK, l.KLens[b]) };
        return r;
    }

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var layout in Layouts.Keys)
            foreach (var option in new[] { "default", "scale", "causal", "window 5,2", "softcap", "alibi [H]", "alibi [B,H]", "keymask", "cosine causal", "combo" })
                data.Add(option, layout);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Varlen_EqualsDensePerSequence(string option, string layout)
    {
        var l = Layouts[layout];
        CompareWithDense(l, Options(option, l), default(NoScoreMod), default(NoMask), $"{option} on {layout}");
    }

    /// <summary>User modifiers see per-sequence positions (QueryIndex, KeyIndex, SeqLenQ, SeqLenK relative to the sequence).</summary>
    [Fact]
    public void Varlen_WithUserMods_EqualsDensePerSequence()
    {
        var l = Layouts["ragged"];
        var score = new TanhGateScoreMod(0.7f);
        var mask = new PrefixLmMask(7);
        CompareWithDense(l, new AttentionOptions { Softcap = 3f }, score, mask, "user mods");
        CompareWithDense(Layouts["causal mix"], new AttentionOptions { KeyPaddingMask = TestData.RandomMask(2, 77, 9) },
            new RelativeBiasScoreMod(5, 1), new AlwaysPartial<PrefixLmMask>(new PrefixLmMask(20)), "user mods, always partial");
        CompareWithDense(l, new AttentionOptions { Causal = true }, default(NoScoreMod), default(StripeMask), "batch-dependent mask");
    }

    internal static (float[] Q, float[] K, float[] V, float[] DO) Inputs(Packed l, int seed)
    {
        long q = (long)l.CuQ[^1] * l.QRow, k = (long)l.CuK[^1] * l.KRow;
        return (TestData.Random(q, seed), TestData.Random(k, seed + 1), TestData.Random(k, seed + 2), TestData.Random(q, seed + 3));
    }

    private static void CompareWithDense<TScore, TMask>(Packed l, AttentionOptions options, TScore score, TMask mask, string label)
        where TScore : struct, IScoreMod where TMask : struct, IMaskMod
    {
        var (q, k, v, dO) = Inputs(l, TestData.StableSeed(label));
        var layout = l.Layout;
        int totalQ = l.CuQ[^1];
        var o = new float[q.Length];
        var lse = new float[layout.LseLength];
        Attention.ForwardVarlen<float, TScore, TMask>(layout, q, k, v, o, lse, score, mask, options);
        var dq = new float[q.Length];
        var dk = new float[k.Length];
        var dv = new float[k.Length];
        Attention.BackwardVarlen<float, TScore, TMask>(layout, q, k, v, o, lse, dO, dq, dk, dv, score, mask, options);

        for (int b = 0; b < l.Batch; b++)
        {
            var s = l.Dense(b);
            var sequence = new DenseInputs<float>(s,
                q.AsSpan((int)(l.CuQ[b] * l.QRow), (int)s.QueryLength).ToArray(),
                k.AsSpan((int)(l.CuK[b] * l.KRow), (int)s.KeyValueLength).ToArray(),
                v.AsSpan((int)(l.CuK[b] * l.KRow), (int)s.KeyValueLength).ToArray(),
                dO.AsSpan((int)(l.CuQ[b] * l.QRow), (int)s.QueryLength).ToArray());
            string at = $"{label}, sequence {b} (Nq={s.SeqLenQ}, Nk={s.SeqLenK})";
            // The dense call is itself checked against the reference, so the varlen call inherits that check. User mods see
            // the sequence index as their batch coordinate in the packed call, so the dense call presents batch 0 as b.
            var dense = typeof(TScore) == typeof(NoScoreMod) && typeof(TMask) == typeof(NoMask)
                ? Check.AgainstReference(sequence, score, mask, Slice(options, l, b), at)
                : Check.AgainstReference(sequence, new AsBatch<TScore>(score, b), new AsBatchMask<TMask>(mask, b), Slice(options, l, b), at);
            TestData.AssertClose(o.AsSpan((int)(l.CuQ[b] * l.QRow), (int)s.QueryLength), dense.Output, 1e-6, at + ": output");
            var lseB = new float[s.LseLength];
            for (int h = 0; h < l.Heads; h++)
                for (int i = 0; i < s.SeqLenQ; i++)
                    lseB[h * s.SeqLenQ + i] = lse[h * totalQ + l.CuQ[b] + i]; // [H, total_q]
            TestData.AssertClose(lseB, dense.Lse, 1e-6, at + ": lse [H, total_q]");
            TestData.AssertClose(dq.AsSpan((int)(l.CuQ[b] * l.QRow), (int)s.QueryLength), dense.DQ, 1e-6, at + ": dq");
            TestData.AssertClose(dk.AsSpan((int)(l.CuK[b] * l.KRow), (int)s.KeyValueLength), dense.DK, 1e-6, at + ": dk");
            TestData.AssertClose(dv.AsSpan((int)(l.CuK[b] * l.KRow), (int)s.KeyValueLength), dense.DV, 1e-6, at + ": dv");
        }
    }

    /// <summary>Shows a score mod batch <c>batch</c> where the call says batch 0 (a dense call standing in for one sequence of a packed call).</summary>
    private readonly struct AsBatch<TScore>(TScore inner, int batch) : IScoreMod where TScore : struct, IScoreMod
    {
        public float Apply(float score, in ScorePosition at) => inner.Apply(score, at with { Batch = batch });

        public float Derivative(float score, in ScorePosition at) => inner.Derivative(score, at with { Batch = batch });

        public void ApplyRow(Span<float> scores, Span<float> derivatives, in ScorePosition rowStart) =>
            inner.ApplyRow(scores, derivatives, rowStart with { Batch = batch });
    }

    /// <summary>The mask counterpart of <see cref="AsBatch{TScore}"/>.</summary>
    private readonly struct AsBatchMask<TMask>(TMask inner, int batch) : IMaskMod where TMask : struct, IMaskMod
    {
        public bool IsVisible(in ScorePosition at) => inner.IsVisible(at with { Batch = batch });

        public BlockCoverage Classify(in TileBounds tile) => inner.Classify(tile with { Batch = batch });

        public void ApplyRow(Span<float> scores, in ScorePosition rowStart) => inner.ApplyRow(scores, rowStart with { Batch = batch });
    }

    /// <summary>Dropout in a packed call uses the sequence index as the batch coordinate; it matches the varlen reference.</summary>
    [Theory]
    [InlineData("ragged", false)]
    [InlineData("causal mix", true)]
    public void Varlen_Dropout_MatchesVarlenReference(string layoutName, bool causal)
    {
        var l = Layouts[layoutName];
        var (q, k, v, dO) = Inputs(l, 60);
        var options = new AttentionOptions { DropoutP = 0.3f, Seed = 5, Offset = 6, Causal = causal, KeyPaddingMask = TestData.RandomMask(l.Batch, l.MaxK, 7, 0.9) };
        var layout = l.Layout;
        var o = new float[q.Length];
        var lse = new float[layout.LseLength];
        Attention.ForwardVarlen<float>(layout, q, k, v, o, lse, options);
        var dq = new float[q.Length];
        var dk = new float[k.Length];
        var dv = new float[k.Length];
        Attention.BackwardVarlen<float>(layout, q, k, v, o, lse, dO, dq, dk, dv, options);
        var reference = ReferenceAttention.ForwardVarlen<float>(layout, q, k, v, options);
        var grads = ReferenceAttention.BackwardVarlen<float>(layout, q, k, v, dO, options);
        TestData.AssertClose(o, reference.Output, 1e-5, "output");
        TestData.AssertClose(lse, reference.Lse, 1e-5, "lse");
        TestData.AssertClose(dq, grads.DQ, 1e-5, "dq");
        TestData.AssertClose(dk, grads.DK, 1e-5, "dk");
        TestData.AssertClose(dv, grads.DV, 1e-5, "dv");
    }

    /// <summary>Half and BFloat16 packed calls against the varlen reference on the rounded inputs.</summary>
    [Fact]
    public void Varlen_LowPrecision_MatchesReference()
    {
        var l = Layouts["ragged"];
        var (qf, kf, vf, dOf) = Inputs(l, 61);
        Run<Half>();
        Run<BFloat16>();

        void Run<T>() where T : unmanaged
        {
            T[] q = TestData.Convert<T>(qf), k = TestData.Convert<T>(kf), v = TestData.Convert<T>(vf), dO = TestData.Convert<T>(dOf);
            var options = new AttentionOptions { Causal = true, DropoutP = 0.1f, Seed = 1 };
            var layout = l.Layout;
            var o = new T[q.Length];
            var lse = new float[layout.LseLength];
            Attention.ForwardVarlen<T>(layout, q, k, v, o, lse, options);
            var dq = new T[q.Length];
            var dk = new T[k.Length];
            var dv = new T[k.Length];
            Attention.BackwardVarlen<T>(layout, q, k, v, o, lse, dO, dq, dk, dv, options);
            double tol = TestData.Tolerance<T>();
            string name = typeof(T).Name;
            TestData.AssertClose(TestData.ToFloat(o), ReferenceAttention.ForwardVarlen<T>(layout, q, k, v, options).Output, tol, name + " output");
            var g = ReferenceAttention.BackwardVarlen<T>(layout, q, k, v, dO, options);
            TestData.AssertClose(TestData.ToFloat(dq), g.DQ, tol, name + " dq");
            TestData.AssertClose(TestData.ToFloat(dk), g.DK, tol, name + " dk");
            TestData.AssertClose(TestData.ToFloat(dv), g.DV, tol, name + " dv");
        }
    }

    /// <summary>
    /// The packed softmax is [B, H, max_Nq, max_Nk]: inside sequence b it is the probabilities with the dropout sign bit
    /// per IsKept(b, h, i, j); outside it is +0 (sign clear), even where the caller pre-filled garbage.
    /// </summary>
    [Fact]
    public void Varlen_Softmax_LayoutAndPadding()
    {
        var l = Layouts["ragged"];
        var (q, k, v, _) = Inputs(l, 62);
        var options = new AttentionOptions { DropoutP = 0.4f, Seed = 3, KeyPaddingMask = TestData.RandomMask(l.Batch, l.MaxK, 8, 0.8) };
        var layout = l.Layout;
        var o = new float[q.Length];
        var lse = new float[layout.LseLength];
        var p = new float[layout.SoftmaxLength];
        Array.Fill(p, -123f);
        Attention.ForwardVarlen<float>(layout, q, k, v, o, lse, options, p);
        var reference = ReferenceAttention.ForwardVarlen<float>(layout, q, k, v, options);
        TestData.AssertClose(p.Select(MathF.Abs).ToArray(), reference.Probabilities.Select(Math.Abs).ToArray(), 1e-5, "|P|");
        var dropout = new DropoutMask(options.DropoutP, options.Seed, options.Offset, l.Heads);
        int maxQ = layout.MaxSeqLenQ, maxK = layout.MaxSeqLenK;
        for (int b = 0; b < l.Batch; b++)
            for (int h = 0; h < l.Heads; h++)
                for (int i = 0; i < maxQ; i++)
                    for (int j = 0; j < maxK; j++)
                    {
                        float x = p[(((long)b * l.Heads + h) * maxQ + i) * maxK + j];
                        if (i < l.QLens[b] && j < l.KLens[b])
                            Assert.True(float.IsNegative(x) == !dropout.IsKept(b, h, i, j), $"sign at [{b},{h},{i},{j}] = {x:R}");
                        else
                            Assert.True(BitConverter.SingleToUInt32Bits(x) == 0, $"padding at [{b},{h},{i},{j}] = {x:R}, expected +0");
                    }
    }

    [Fact]
    public void VarlenLayout_ReportsItsShape()
    {
        var layout = Layouts["ragged"].Layout;
        Assert.Equal(6, layout.Batch);
        Assert.Equal(101, layout.TotalQ);
        Assert.Equal(182, layout.TotalK);
        Assert.Equal(65, layout.MaxSeqLenQ);
        Assert.Equal(131, layout.MaxSeqLenK);
        Assert.Equal(101L * 4 * 16, layout.QueryLength);
        Assert.Equal(182L * 2 * 16, layout.KeyValueLength);
        Assert.Equal(4L * 101, layout.LseLength);
        Assert.Equal(6L * 4 * 65 * 131, layout.SoftmaxLength);
        Assert.Equal(new[] { 0, 5, 5, 70, 71, 71, 101 }, layout.CuSeqlensQ.ToArray());
    }

    /// <summary>A layout with every sequence empty is valid and the calls do nothing.</summary>
    [Fact]
    public void Varlen_AllSequencesEmpty()
    {
        var layout = new VarlenLayout([0, 0, 0], [0, 0, 0], 2, 1, 8);
        Attention.ForwardVarlen<float>(layout, [], [], [], [], []);
        Attention.BackwardVarlen<float>(layout, [], [], [], [], [], [], [], [], []);
    }
}
