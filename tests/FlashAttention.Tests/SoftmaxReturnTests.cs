using Xunit;

namespace FlashAttention.Tests;

/// <summary>
/// The returned softmax [B, H, Nq, Nk] with the dropout mask in the sign bit: |x| is the probability, a set sign bit
/// (also on −0.0) means dropped, exactly per <see cref="DropoutMask.IsKept"/>; and the output is exactly what that
/// tensor says: (P with dropped entries zeroed)/(1−p) · V.
/// </summary>
public class SoftmaxReturnTests
{
    private static readonly string[] CaseNames =
    [
        "plain", "dropout", "keymask dropout", "mqa Nq>Nk causal dropout", "small window dropout", "causal 130",
        "window far", "keymask empty block", "combo", "combo with empty tiles", "cosine dropout",
    ];

    private static (AttentionShape Shape, AttentionOptions Options) Case(string name) => name switch
    {
        "plain" => (new AttentionShape(2, 33, 47, 2, 2, 16), new AttentionOptions()),
        "dropout" => (new AttentionShape(2, 33, 47, 2, 2, 16), new AttentionOptions { DropoutP = 0.3f, Seed = 8, Offset = 9 }),
        "keymask dropout" => (new AttentionShape(2, 20, 40, 2, 1, 8),
            new AttentionOptions { DropoutP = 0.5f, Seed = 1, KeyPaddingMask = TestData.RandomMask(2, 40, 4, 0.5) }),
        // Nq > Nk under causal: fully masked rows; their entries are 0 and the dropped ones −0.
        "mqa Nq>Nk causal dropout" => (new AttentionShape(1, 90, 30, 3, 1, 8), new AttentionOptions { Causal = true, DropoutP = 0.2f, Seed = 2 }),
        "small window dropout" => (new AttentionShape(1, 40, 40, 1, 1, 8),
            new AttentionOptions { WindowLeft = 2, WindowRight = 1, DropoutP = 0.4f, Seed = 3 }),
        // Query block 0 and key blocks ≥ 1 are entirely above the diagonal: tiles the mask classifies Empty.
        "causal 130" => (new AttentionShape(1, 130, 130, 1, 1, 8), new AttentionOptions { Causal = true }),
        "window far" => (new AttentionShape(1, 70, 200, 1, 1, 8), new AttentionOptions { WindowLeft = 3, WindowRight = 3 }),
        "keymask empty block" => (new AttentionShape(1, 10, 140, 1, 1, 8), new AttentionOptions { KeyPaddingMask = KeysFrom(70, 140) }),
        // The window is wide enough that no 64-key block is invisible to a whole query block, whatever the block size.
        "combo" => (new AttentionShape(2, 75, 140, 4, 2, 24), new AttentionOptions
        {
            Causal = true, WindowLeft = 100, Softcap = 3f, AlibiSlopes = OptionsTests.Slopes(4, 1),
            KeyPaddingMask = TestData.RandomMask(2, 140, 5, 0.8), DropoutP = 0.25f, Seed = 10, Offset = 11,
        }),
        "combo with empty tiles" => (new AttentionShape(2, 200, 200, 4, 2, 24), new AttentionOptions
        {
            Causal = true, WindowLeft = 20, Softcap = 3f, AlibiSlopes = OptionsTests.Slopes(4, 1),
            KeyPaddingMask = TestData.RandomMask(2, 200, 5, 0.8), DropoutP = 0.25f, Seed = 10, Offset = 11,
        }),
        "cosine dropout" => (new AttentionShape(1, 50, 80, 2, 1, 16),
            new AttentionOptions { Variant = AttentionVariant.Cosine, DropoutP = 0.3f, Seed = 12 }),
        _ => throw new ArgumentException(name),
    };

    private static bool[] KeysFrom(int first, int count) => Enumerable.Range(0, count).Select(j => j >= first).ToArray();

    private static bool CaseHitsEmptyTiles(string name) => name is "causal 130" or "window far" or "keymask empty block" or "combo with empty tiles";

    public static TheoryData<string> CasesWithoutEmptyTiles() => new(CaseNames.Where(n => !CaseHitsEmptyTiles(n)));

    public static TheoryData<string> CasesWithEmptyTiles() => new(CaseNames.Where(CaseHitsEmptyTiles));

    [Theory]
    [MemberData(nameof(CasesWithoutEmptyTiles))]
    public void Softmax_MagnitudesSignsAndOutputAgree(string name) => Verify(name);

    /// <summary>
    /// The same checks on calls whose mask makes whole tiles Empty (causal, far windows, a padded-away key block): the kernel
    /// skips those tiles in the online softmax, but the returned probabilities there must still be exactly (−)0. This once
    /// came back as exp(−LSE).
    /// </summary>
    [Theory]
    [MemberData(nameof(CasesWithEmptyTiles))]
    public void Softmax_MagnitudesSignsAndOutputAgree_WithEmptyTiles(string name) => Verify(name);

    private static void Verify(string name)
    {
        var (s, options) = Case(name);
        var x = new DenseInputs<float>(s, TestData.StableSeed(name));
        var run = Check.Run(x, options, backward: false, softmax: true);
        var reference = ReferenceAttention.Forward<float>(s, x.Q, x.K, x.V, options);
        var dropout = new DropoutMask(options.DropoutP, options.Seed, options.Offset, s.Heads);

        // Magnitudes are the reference probabilities (which carry the same sign convention).
        var magnitudes = run.Softmax.Select(MathF.Abs).ToArray();
        TestData.AssertClose(magnitudes, reference.Probabilities.Select(Math.Abs).ToArray(), 1e-5, $"{name}: |P|");

        for (int b = 0; b < s.Batch; b++)
            for (int h = 0; h < s.Heads; h++)
                for (int i = 0; i < s.SeqLenQ; i++)
                {
                    long row = (((long)b * s.Heads + h) * s.SeqLenQ + i) * s.SeqLenK;
                    double rowSum = 0;
                    var expected = new double[s.HeadDim];
                    int hk = h / (s.Heads / s.KvHeads);
                    for (int j = 0; j < s.SeqLenK; j++)
                    {
                        float p = run.Softmax[row + j];
                        bool kept = dropout.IsKept(b, h, i, j);
                        // Negative sign (including −0.0) exactly where dropout dropped the entry.
                        Assert.True(float.IsNegative(p) == !kept, $"{name}: P[{b},{h},{i},{j}] = {p:R} but IsKept = {kept}");
                        Assert.True(double.IsNegative(reference.Probabilities[row + j]) == !kept || reference.Probabilities[row + j] == 0,
                            $"{name}: reference sign at [{b},{h},{i},{j}]");
                        rowSum += Math.Abs(p);
                        if (kept)
                            for (int c = 0; c < s.HeadDim; c++)
                                expected[c] += p / (1.0 - options.DropoutP) * x.V[((long)b * s.SeqLenK + j) * s.KvHeads * s.HeadDim + hk * s.HeadDim + c];
                    }
                    bool masked = double.IsPositiveInfinity(reference.Lse[((long)b * s.Heads + h) * s.SeqLenQ + i]);
                    Assert.True(Math.Abs(rowSum - (masked ? 0 : 1)) < 1e-5, $"{name}: row [{b},{h},{i}] sums to {rowSum}");
                    // The output is exactly what the returned tensor describes, recomputed in double.
                    long o = (((long)b * s.SeqLenQ + i) * s.Heads + h) * s.HeadDim;
                    double num = 0, den = 0;
                    for (int c = 0; c < s.HeadDim; c++)
                    {
                        num += Math.Pow(run.Output[o + c] - expected[c], 2);
                        den += expected[c] * expected[c];
                    }
                    Assert.True(Math.Sqrt(num) <= 1e-5 * Math.Max(Math.Sqrt(den), 1e-3),
                        $"{name}: output row [{b},{h},{i}] differs from P·V recomputed from the returned softmax by {Math.Sqrt(num):E2}");
                }
    }

    /// <summary>A row that sees no key and whose entries are all dropped comes back as −0.0, not +0.0.</summary>
    [Fact]
    public void FullyMaskedDroppedEntries_AreNegativeZero()
    {
        var s = new AttentionShape(1, 8, 4, 1, 1, 4);
        var x = new DenseInputs<float>(s, 50);
        var options = new AttentionOptions { Causal = true, DropoutP = 0.5f, Seed = 4 };
        var run = Check.Run(x, options, backward: false, softmax: true);
        var dropout = new DropoutMask(0.5f, 4, 0, 1);
        int negativeZeros = 0;
        for (int i = 0; i < 4; i++) // rows 0..3 see no key (Nq − Nk = 4)
            for (int j = 0; j < 4; j++)
            {
                float p = run.Softmax[i * 4 + j];
                Assert.Equal(0f, MathF.Abs(p));
                Assert.Equal(!dropout.IsKept(0, 0, i, j), float.IsNegative(p));
                negativeZeros += float.IsNegative(p) ? 1 : 0;
            }
        Assert.True(negativeZeros > 0, "the chosen seed should drop at least one of 16 entries");
    }

    /// <summary>Low-precision storage: the returned probabilities are float32 and match the reference on the rounded inputs.</summary>
    [Fact]
    public void Softmax_BFloat16AndHalfInputs_MatchReference()
    {
        var s = new AttentionShape(1, 30, 50, 2, 2, 32);
        var options = new AttentionOptions { DropoutP = 0.2f, Seed = 6 };
        var xh = new DenseInputs<Half>(s, 51);
        var rh = Check.Run(xh, options, backward: false, softmax: true);
        TestData.AssertClose(rh.Softmax, ReferenceAttention.Forward<Half>(s, xh.Q, xh.K, xh.V, options).Probabilities, 1e-5, "half P");
        var xb = new DenseInputs<BFloat16>(s, 52);
        var rb = Check.Run(xb, options, backward: false, softmax: true);
        TestData.AssertClose(rb.Softmax, ReferenceAttention.Forward<BFloat16>(s, xb.Q, xb.K, xb.V, options).Probabilities, 1e-5, "bf16 P");
    }

    /// <summary>Asking for the softmax does not change the output or LSE.</summary>
    [Fact]
    public void AskingForSoftmax_DoesNotChangeOutput()
    {
        var s = new AttentionShape(2, 70, 90, 2, 1, 16);
        var x = new DenseInputs<float>(s, 53);
        var options = new AttentionOptions { DropoutP = 0.1f, Seed = 9, Softcap = 4f };
        var a = Check.Run(x, options, backward: false, softmax: true);
        var b = Check.Run(x, options, backward: false, softmax: false);
        TestData.AssertBitIdentical(a.Output, b.Output, "output");
        TestData.AssertBitIdentical(a.Lse, b.Lse, "lse");
    }
}
