using Xunit;

namespace FlashAttention.Tests;

/// <summary>
/// Every option of <see cref="AttentionOptions"/>, alone and combined, forward and backward, against the double reference,
/// on shapes that cover MHA, GQA and MQA, seqlen_q &lt; seqlen_k and seqlen_q &gt; seqlen_k (fully masked rows under
/// causal), several tiles per sequence and odd head dims.
/// </summary>
public class OptionsTests
{
    /// <summary>Shapes by name: (batch, Nq, Nk, heads, kvHeads, headDim).</summary>
    internal static readonly Dictionary<string, AttentionShape> Shapes = new()
    {
        // GQA (2 query heads per kv head), Nk > Nq, two key blocks.
        ["gqa"] = new AttentionShape(2, 37, 100, 4, 2, 24),
        // MQA, Nq > Nk: under causal the first 63 rows see no key; three query blocks.
        ["mqa"] = new AttentionShape(1, 130, 67, 3, 1, 16),
        // MHA, square, odd head dim, sizes one past a block.
        ["mha"] = new AttentionShape(2, 65, 65, 2, 2, 33),
        // The degenerate single element.
        ["one"] = new AttentionShape(1, 1, 1, 1, 1, 1),
    };

    /// <summary>Option sets by name; they depend on the shape for ALiBi and key padding lengths.</summary>
    internal static AttentionOptions Options(string name, AttentionShape s) => name switch
    {
        "default" => new AttentionOptions(),
        "scale 0.3" => new AttentionOptions { Scale = 0.3f },
        "scale 2.5" => new AttentionOptions { Scale = 2.5f },
        "causal" => new AttentionOptions { Causal = true },
        "causal right 0" => new AttentionOptions { Causal = true, WindowRight = 0 },
        "window 5,3" => new AttentionOptions { WindowLeft = 5, WindowRight = 3 },
        "window 4,-1" => new AttentionOptions { WindowLeft = 4, WindowRight = -1 },
        "window -1,2" => new AttentionOptions { WindowLeft = -1, WindowRight = 2 },
        "window 1,0" => new AttentionOptions { WindowLeft = 1, WindowRight = 0 },
        "window 0,1" => new AttentionOptions { WindowLeft = 0, WindowRight = 1 },
        "window 70,70" => new AttentionOptions { WindowLeft = 70, WindowRight = 70 },
        "causal window 6" => new AttentionOptions { Causal = true, WindowLeft = 6 },
        "softcap 1.5" => new AttentionOptions { Softcap = 1.5f },
        "softcap 30 scale 1" => new AttentionOptions { Softcap = 30f, Scale = 1f },
        "alibi [H]" => new AttentionOptions { AlibiSlopes = Slopes(s.Heads, 1) },
        "alibi [B,H]" => new AttentionOptions { AlibiSlopes = Slopes(s.Batch * s.Heads, 2) },
        "alibi causal" => new AttentionOptions { Causal = true, AlibiSlopes = Slopes(s.Heads, 3) },
        "keymask" => new AttentionOptions { KeyPaddingMask = TestData.RandomMask(s.Batch, s.SeqLenK, 5) },
        "keymask batch 0 empty" => new AttentionOptions { KeyPaddingMask = MaskWithEmptyBatch(s) },
        "dropout 0.1" => new AttentionOptions { DropoutP = 0.1f, Seed = 11, Offset = 3 },
        "dropout 0.5" => new AttentionOptions { DropoutP = 0.5f, Seed = 0xDEAD_BEEF_1234, Offset = 1UL << 40 },
        "cosine" => new AttentionOptions { Variant = AttentionVariant.Cosine },
        "cosine groups" => new AttentionOptions { Variant = AttentionVariant.Cosine, CosineGroups = SmallestDivisorAbove1(s.HeadDim), CosineScale = 5f },
        "cosine causal keymask" => new AttentionOptions { Variant = AttentionVariant.Cosine, Causal = true, KeyPaddingMask = TestData.RandomMask(s.Batch, s.SeqLenK, 6) },
        "cosine softcap dropout" => new AttentionOptions { Variant = AttentionVariant.Cosine, Softcap = 5f, DropoutP = 0.25f, Seed = 3 },
        "combo all" => new AttentionOptions
        {
            Causal = true, WindowLeft = 20, Softcap = 3f, AlibiSlopes = Slopes(s.Heads, 4),
            KeyPaddingMask = TestData.RandomMask(s.Batch, s.SeqLenK, 7, 0.8), DropoutP = 0.15f, Seed = 99, Offset = 5, Scale = 0.4f,
        },
        "combo window" => new AttentionOptions
        {
            WindowLeft = 3, WindowRight = 7, AlibiSlopes = Slopes(s.Batch * s.Heads, 5),
            KeyPaddingMask = TestData.RandomMask(s.Batch, s.SeqLenK, 8, 0.6), DropoutP = 0.3f, Seed = 7,
        },
        "combo softcap alibi" => new AttentionOptions { Softcap = 2f, AlibiSlopes = Slopes(s.Heads, 6), Scale = 0.7f },
        _ => throw new ArgumentException(name),
    };

    internal static readonly string[] OptionNames =
    [
        "default", "scale 0.3", "scale 2.5", "causal", "causal right 0", "window 5,3", "window 4,-1", "window -1,2",
        "window 1,0", "window 0,1", "window 70,70", "causal window 6", "softcap 1.5", "softcap 30 scale 1", "alibi [H]", "alibi [B,H]",
        "alibi causal", "keymask", "keymask batch 0 empty", "dropout 0.1", "dropout 0.5", "cosine", "cosine groups",
        "cosine causal keymask", "cosine softcap dropout", "combo all", "combo window", "combo softcap alibi",
    ];

    /// <summary>ALiBi-like positive slopes, different per entry.</summary>
    internal static float[] Slopes(int count, int seed) => TestData.Uniform(count, 1000 + seed, 0.05f, 0.6f);

    private static bool[] MaskWithEmptyBatch(AttentionShape s)
    {
        var m = TestData.RandomMask(s.Batch, s.SeqLenK, 9);
        Array.Fill(m, false, 0, s.SeqLenK); // batch 0: every key padded away, so every row of batch 0 is fully masked
        return m;
    }

    private static int SmallestDivisorAbove1(int d)
    {
        for (int g = 2; g <= d; g++)
            if (d % g == 0)
                return g;
        return 1;
    }

    public static TheoryData<string, string> FloatCases()
    {
        var data = new TheoryData<string, string>();
        foreach (var shape in Shapes.Keys)
            foreach (var option in OptionNames)
                data.Add(option, shape);
        return data;
    }

    [Theory]
    [MemberData(nameof(FloatCases))]
    public void Float_ForwardAndBackward_MatchReference(string option, string shape)
    {
        var s = Shapes[shape];
        var x = new DenseInputs<float>(s, seed: TestData.StableSeed(option));
        Check.AgainstReference(x, Options(option, s), $"{option} on {shape} {s}");
    }

    public static TheoryData<string, string> LowPrecisionCases()
    {
        var data = new TheoryData<string, string>();
        foreach (var type in new[] { "half", "bfloat16" })
            foreach (var option in OptionNames)
                data.Add(option, type);
        return data;
    }

    /// <summary>Half and BFloat16 storage: the reference runs on the same rounded inputs, so only the kernel's rounding of its outputs and of O (for D = rowsum(dO∘O)) separates them.</summary>
    [Theory]
    [MemberData(nameof(LowPrecisionCases))]
    public void LowPrecision_ForwardAndBackward_MatchReference(string option, string type)
    {
        var s = Shapes["gqa"];
        int seed = TestData.StableSeed(option);
        var options = Options(option, s);
        if (type == "half")
            Check.AgainstReference(new DenseInputs<Half>(s, seed), options, $"{option} half");
        else
            Check.AgainstReference(new DenseInputs<BFloat16>(s, seed), options, $"{option} bf16");
    }

    /// <summary>Causal with Nq &gt; Nk: rows i &lt; Nq − Nk see no key (bottom-right alignment), so output 0, LSE +∞, dq 0.</summary>
    [Fact]
    public void Causal_MoreQueriesThanKeys_LeadingRowsAreFullyMasked()
    {
        var s = new AttentionShape(1, 100, 30, 2, 1, 8);
        var x = new DenseInputs<float>(s, 21);
        var run = Check.AgainstReference(x, new AttentionOptions { Causal = true }, "causal Nq>Nk");
        for (int h = 0; h < s.Heads; h++)
            for (int i = 0; i < s.SeqLenQ; i++)
            {
                float lse = run.Lse[h * s.SeqLenQ + i];
                if (i < 70)
                    Assert.True(float.IsPositiveInfinity(lse), $"row {i} should be fully masked, LSE {lse}");
                else
                    Assert.True(float.IsFinite(lse), $"row {i} sees keys 0..{i - 70}, LSE {lse}");
            }
    }

    /// <summary>Causal with Nq &lt; Nk: the last query sees every key, the first sees Nk − Nq + 1 keys (bottom-right).</summary>
    [Fact]
    public void Causal_FewerQueriesThanKeys_IsBottomRightAligned()
    {
        var s = new AttentionShape(1, 3, 10, 1, 1, 4);
        var x = new DenseInputs<float>(s, 22);
        var options = new AttentionOptions { Causal = true };
        var run = Check.Run(x, options, backward: false, softmax: true);
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 10; j++)
            {
                bool visible = j <= i + 7;
                float p = run.Softmax[i * 10 + j];
                Assert.True(visible ? p > 0 : p == 0, $"P[{i},{j}] = {p}, visible = {visible}");
            }
    }

    /// <summary>
    /// Window (0, 0): each query sees exactly its diagonal key, so P = 1, the output is that key's value, and dq, dk vanish
    /// (dS = P(dP − D) = 0). The gradients are checked in absolute terms: relative to an exact 0 they would measure noise.
    /// </summary>
    [Fact]
    public void WindowZeroZero_EachQuerySeesOnlyItsDiagonalKey()
    {
        var s = new AttentionShape(2, 40, 70, 2, 1, 16);
        var x = new DenseInputs<float>(s, 31);
        var options = new AttentionOptions { WindowLeft = 0, WindowRight = 0 };
        var run = Check.Run(x, options);
        var reference = ReferenceAttention.Backward<float>(s, x.Q, x.K, x.V, x.DO, options);
        TestData.AssertClose(run.DV, reference.DV, 1e-5, "dv");
        for (int b = 0; b < 2; b++)
            for (int i = 0; i < 40; i++)
                for (int h = 0; h < 2; h++)
                    for (int c = 0; c < 16; c++)
                    {
                        long o = ((b * 40L + i) * 2 + h) * 16 + c, v = (b * 70L + i + 30) * 16 + c;
                        Assert.True(Math.Abs(run.Output[o] - x.V[v]) <= 1e-6f * Math.Max(1f, Math.Abs(x.V[v])), $"output [{b},{i},{h},{c}]");
                    }
        Assert.All(run.DQ, g => Assert.True(Math.Abs(g) < 1e-4f, $"dq {g}"));
        Assert.All(run.DK, g => Assert.True(Math.Abs(g) < 1e-4f, $"dk {g}"));
    }

    /// <summary>Zero keys: every row is fully masked (output 0, LSE +∞) and backward writes zeros.</summary>
    [Fact]
    public void NoKeys_EveryRowFullyMasked()
    {
        var s = new AttentionShape(2, 5, 0, 2, 1, 8);
        var x = new DenseInputs<float>(s, 23);
        var run = Check.AgainstReference(x, null, "Nk = 0");
        Assert.All(run.Lse, l => Assert.True(float.IsPositiveInfinity(l)));
        Assert.All(run.Output, o => Assert.Equal(0f, o));
        Assert.All(run.DQ, g => Assert.Equal(0f, g));
    }

    /// <summary>Zero queries: nothing to compute; dk and dv are zero.</summary>
    [Fact]
    public void NoQueries_GradientsAreZero()
    {
        var s = new AttentionShape(1, 0, 9, 2, 2, 8);
        var x = new DenseInputs<float>(s, 24);
        var dk = Enumerable.Repeat(5f, (int)s.KeyValueLength).ToArray();
        var dv = Enumerable.Repeat(5f, (int)s.KeyValueLength).ToArray();
        Attention.Forward<float>(s, x.Q, x.K, x.V, [], []);
        Attention.Backward<float>(s, x.Q, x.K, x.V, [], [], [], [], dk, dv);
        Assert.All(dk, g => Assert.Equal(0f, g));
        Assert.All(dv, g => Assert.Equal(0f, g));
    }

    /// <summary>A key padding mask that hides every key of batch 0 only: batch 0 is fully masked, batch 1 is normal, dk/dv of batch 0 are zero.</summary>
    [Fact]
    public void KeyPadding_AllKeysOfOneBatchMasked()
    {
        var s = new AttentionShape(2, 20, 70, 2, 2, 16);
        var x = new DenseInputs<float>(s, 25);
        var mask = new bool[2 * 70];
        for (int j = 0; j < 70; j++)
            mask[70 + j] = j % 3 != 0;
        var run = Check.AgainstReference(x, new AttentionOptions { KeyPaddingMask = mask }, "batch 0 masked");
        for (int i = 0; i < s.Heads * s.SeqLenQ; i++)
        {
            Assert.True(float.IsPositiveInfinity(run.Lse[i]));
            Assert.True(float.IsFinite(run.Lse[s.Heads * s.SeqLenQ + i]));
        }
        long half = s.KeyValueLength / 2;
        for (long i = 0; i < half; i++)
        {
            Assert.Equal(0f, run.DK[i]);
            Assert.Equal(0f, run.DV[i]);
        }
    }

    /// <summary>ALiBi [H] equals ALiBi [B, H] with the same slopes repeated for every batch; [B, H] with different rows differs.</summary>
    [Fact]
    public void Alibi_PerHeadEqualsRepeatedPerBatch()
    {
        var s = new AttentionShape(3, 9, 11, 2, 1, 8);
        var x = new DenseInputs<float>(s, 26);
        var slopes = Slopes(2, 10);
        var repeated = Enumerable.Range(0, 3).SelectMany(_ => slopes).ToArray();
        var a = Check.Run(x, new AttentionOptions { AlibiSlopes = slopes });
        var b = Check.Run(x, new AttentionOptions { AlibiSlopes = repeated });
        TestData.AssertBitIdentical(a.Output, b.Output, "output");
        TestData.AssertBitIdentical(a.DQ, b.DQ, "dq");
        repeated[4] += 0.5f; // batch 2, head 0
        var c = Check.Run(x, new AttentionOptions { AlibiSlopes = repeated });
        Assert.True(TestData.RelativeError(c.Output, a.Output) > 1e-3, "changing the slope of batch 2 must change the output");
    }

    /// <summary>The explicit scale equal to the default 1/√D gives the same bits as leaving it null.</summary>
    [Fact]
    public void Scale_NullMeansOneOverSqrtHeadDim()
    {
        var s = new AttentionShape(1, 17, 19, 1, 1, 25);
        var x = new DenseInputs<float>(s, 27);
        var a = Check.Run(x, null);
        var b = Check.Run(x, new AttentionOptions { Scale = 0.2f });
        TestData.AssertBitIdentical(a.Output, b.Output, "output");
        TestData.AssertBitIdentical(a.Lse, b.Lse, "lse");
        TestData.AssertBitIdentical(a.DQ, b.DQ, "dq");
    }

    /// <summary>
    /// Cosine with L2NormalizeQK=false on inputs the caller normalised per group gives the forward result of the in-kernel
    /// normalisation on the raw inputs, and its gradients (with respect to the normalised inputs) match the reference.
    /// </summary>
    [Theory]
    [InlineData(1, false)]
    [InlineData(4, false)]
    [InlineData(2, true)]
    public void Cosine_PrenormalisedInputs_MatchInKernelNormalisation(int groups, bool causal)
    {
        var s = new AttentionShape(2, 41, 70, 4, 2, 32);
        var raw = new DenseInputs<float>(s, 28);
        var normalised = new DenseInputs<float>(s, Normalise(raw.Q, s.HeadDim, groups), Normalise(raw.K, s.HeadDim, groups), raw.V, raw.DO);
        var inKernel = new AttentionOptions { Variant = AttentionVariant.Cosine, CosineGroups = groups, Causal = causal };
        var byCaller = inKernel with { L2NormalizeQK = false };
        var a = Check.Run(raw, inKernel, backward: false);
        var b = Check.AgainstReference(normalised, byCaller, $"cosine prenormalised groups {groups}");
        TestData.AssertClose(b.Output, a.Output, 1e-5, "output, caller- vs kernel-normalised");
        TestData.AssertClose(b.Lse, a.Lse, 1e-5, "lse, caller- vs kernel-normalised");
    }

    private static float[] Normalise(float[] x, int d, int groups)
    {
        var y = (float[])x.Clone();
        int g = d / groups;
        for (int start = 0; start < y.Length; start += g)
        {
            double n = 0;
            for (int c = 0; c < g; c++)
                n += (double)y[start + c] * y[start + c];
            n = Math.Sqrt(n);
            for (int c = 0; c < g; c++)
                y[start + c] = (float)(y[start + c] / n);
        }
        return y;
    }

    /// <summary>Cosine attention keeps LSE bounded and matches the reference even with a large CosineScale (the fixed shift must not overflow).</summary>
    [Fact]
    public void Cosine_LargeScale_Stable()
    {
        var s = new AttentionShape(1, 70, 70, 1, 1, 16);
        var x = new DenseInputs<float>(s, 29, qkScale: 50f); // raw magnitudes do not matter after normalisation
        Check.AgainstReference(x, new AttentionOptions { Variant = AttentionVariant.Cosine, CosineScale = 40f }, "cosine scale 40");
    }

    /// <summary>Large raw scores (scale 30 on unit-ish inputs) exercise the running max: exp must never overflow.</summary>
    [Fact]
    public void Softmax_LargeScores_NoOverflow()
    {
        var s = new AttentionShape(1, 70, 130, 2, 2, 32);
        var x = new DenseInputs<float>(s, 30);
        // Scores reach a few hundred: exp without the running max would overflow. Float rounding of such scores is
        // ~1e-5 absolute, which the near one-hot probabilities inherit, hence the looser bound.
        var run = Check.AgainstReference(x, new AttentionOptions { Scale = 30f }, "scale 30", tolerance: 1e-4, gradientTolerance: 1e-3);
        Assert.All(run.Output, v => Assert.True(float.IsFinite(v)));
    }
}
