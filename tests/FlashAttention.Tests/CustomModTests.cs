using Xunit;

namespace FlashAttention.Tests;

/// <summary>
/// A relative position bias (FlexAttention's classic score_mod): s + table[clamp(j − i)]·(1 + 0.1·head).
/// Written the way a user would: scalar Apply/Derivative, ApplyRow through <see cref="ScoreMods.ApplyEach{TMod}"/>.
/// </summary>
internal readonly struct RelativeBiasScoreMod : IScoreMod
{
    private readonly float[] _table;
    private readonly int _maxDistance;

    public RelativeBiasScoreMod(int maxDistance, int seed)
    {
        _maxDistance = maxDistance;
        _table = TestData.Uniform(2 * maxDistance + 1, seed, -1.5f, 1.5f);
    }

    public float Apply(float score, in ScorePosition at) =>
        score + _table[Math.Clamp(at.KeyIndex - at.QueryIndex, -_maxDistance, _maxDistance) + _maxDistance] * (1f + 0.1f * at.Head);

    public float Derivative(float score, in ScorePosition at) => 1f;

    public void ApplyRow(Span<float> scores, Span<float> derivatives, in ScorePosition rowStart) =>
        ScoreMods.ApplyEach(this, scores, derivatives, rowStart);
}

/// <summary>A nonlinear, position-, head- and batch-dependent modifier: s + a·tanh(s)·w(b, h, i, j), so the backward needs its derivative.</summary>
internal readonly struct TanhGateScoreMod(float amplitude) : IScoreMod
{
    private static float Weight(in ScorePosition at) => 0.5f + 0.25f * ((at.QueryIndex - at.KeyIndex + at.Head + 2 * at.Batch) & 3);

    public float Apply(float score, in ScorePosition at) => score + amplitude * MathF.Tanh(score) * Weight(at);

    public float Derivative(float score, in ScorePosition at)
    {
        float t = MathF.Tanh(score);
        return 1f + amplitude * (1f - t * t) * Weight(at);
    }

    public void ApplyRow(Span<float> scores, Span<float> derivatives, in ScorePosition rowStart) =>
        ScoreMods.ApplyEach(this, scores, derivatives, rowStart);
}

/// <summary>
/// Prefix-LM: every query sees the first <c>prefix</c> keys and, causally (bottom-right), the rest. Row i sees exactly
/// the keys j ≤ max(prefix − 1, i + Nk − Nq), so Classify is exact: Full when the tile's last key is visible to its first
/// row, Empty when its first key is invisible to its last row.
/// </summary>
internal readonly struct PrefixLmMask(int prefix) : IMaskMod
{
    private static long LastVisible(int prefix, long row, int seqLenQ, int seqLenK) => Math.Max(prefix - 1, row + seqLenK - seqLenQ);

    public bool IsVisible(in ScorePosition at) => at.KeyIndex <= LastVisible(prefix, at.QueryIndex, at.SeqLenQ, at.SeqLenK);

    public BlockCoverage Classify(in TileBounds tile) =>
        tile.KeyStart > LastVisible(prefix, tile.QueryEnd - 1, tile.SeqLenQ, tile.SeqLenK) ? BlockCoverage.Empty
        : tile.KeyEnd - 1 <= LastVisible(prefix, tile.QueryStart, tile.SeqLenQ, tile.SeqLenK) ? BlockCoverage.Full
        : BlockCoverage.Partial;

    public void ApplyRow(Span<float> scores, in ScorePosition rowStart) => ScoreMods.MaskEach(this, scores, rowStart);
}

/// <summary>
/// Document masking (packed documents in one sequence): position p belongs to document p / length (the last one may be
/// shorter); a query sees the keys of its own document. Classify is exact because documents are contiguous and non-empty.
/// </summary>
internal readonly struct DocumentMask(int documentLength) : IMaskMod
{
    private int Doc(int position) => position / documentLength;

    public bool IsVisible(in ScorePosition at) => Doc(at.QueryIndex) == Doc(at.KeyIndex);

    public BlockCoverage Classify(in TileBounds tile)
    {
        int q0 = Doc(tile.QueryStart), q1 = Doc(tile.QueryEnd - 1), k0 = Doc(tile.KeyStart), k1 = Doc(tile.KeyEnd - 1);
        if (q1 < k0 || k1 < q0)
            return BlockCoverage.Empty;
        return q0 == q1 && k0 == k1 && q0 == k0 ? BlockCoverage.Full : BlockCoverage.Partial;
    }

    public void ApplyRow(Span<float> scores, in ScorePosition rowStart) => ScoreMods.MaskEach(this, scores, rowStart);
}

/// <summary>A head- and batch-dependent sparse pattern with no tile structure: Classify always answers Partial (always safe).</summary>
internal readonly struct StripeMask : IMaskMod
{
    public bool IsVisible(in ScorePosition at) => (at.QueryIndex + 2 * at.KeyIndex + at.Head + 3 * at.Batch) % 5 != 0;

    public BlockCoverage Classify(in TileBounds tile) => BlockCoverage.Partial;

    public void ApplyRow(Span<float> scores, in ScorePosition rowStart) => ScoreMods.MaskEach(this, scores, rowStart);
}

/// <summary>Hides everything, and says so.</summary>
internal readonly struct HideAllMask : IMaskMod
{
    public bool IsVisible(in ScorePosition at) => false;

    public BlockCoverage Classify(in TileBounds tile) => BlockCoverage.Empty;

    public void ApplyRow(Span<float> scores, in ScorePosition rowStart) => scores.Fill(float.NegativeInfinity);
}

/// <summary>Wraps a mask but never lets the kernel skip or shortcut a tile: the slow, always-correct classification.</summary>
internal readonly struct AlwaysPartial<TMask>(TMask inner) : IMaskMod where TMask : struct, IMaskMod
{
    public bool IsVisible(in ScorePosition at) => inner.IsVisible(at);

    public BlockCoverage Classify(in TileBounds tile) => BlockCoverage.Partial;

    public void ApplyRow(Span<float> scores, in ScorePosition rowStart) => inner.ApplyRow(scores, rowStart);
}

/// <summary>
/// User-defined score and mask modifiers (the generic overloads) forward and backward against the reference called
/// with the same modifiers, alone, chained with the built-in options, in every storage type; and a mask whose Classify
/// always answers Partial gives the result of the precise one.
/// </summary>
public class CustomModTests
{
    private static readonly AttentionShape Gqa = new(2, 70, 100, 4, 2, 24);
    private static readonly AttentionShape Mqa = new(1, 130, 67, 3, 1, 16);
    private static readonly AttentionShape Square = new(1, 150, 150, 2, 2, 8);

    [Fact]
    public void RelativeBias_MatchesReference()
    {
        var mod = new RelativeBiasScoreMod(12, 1);
        Check.AgainstReference(new DenseInputs<float>(Gqa, 1), mod, default(NoMask), null, "relative bias gqa");
        Check.AgainstReference(new DenseInputs<float>(Mqa, 2), mod, default(NoMask), new AttentionOptions { Causal = true }, "relative bias mqa causal");
    }

    [Fact]
    public void TanhGate_MatchesReference()
    {
        var mod = new TanhGateScoreMod(0.8f);
        Check.AgainstReference(new DenseInputs<float>(Gqa, 3), mod, default(NoMask), null, "tanh gate gqa");
        Check.AgainstReference(new DenseInputs<float>(Mqa, 4), mod, default(NoMask), new AttentionOptions { Scale = 0.9f }, "tanh gate mqa");
    }

    [Fact]
    public void PrefixLm_MatchesReference()
    {
        Check.AgainstReference(new DenseInputs<float>(Square, 5), default(NoScoreMod), new PrefixLmMask(70), null, "prefix-LM square");
        // Nq > Nk: rows above the diagonal still see the prefix, so no row is fully masked when prefix > 0.
        Check.AgainstReference(new DenseInputs<float>(Mqa, 6), default(NoScoreMod), new PrefixLmMask(3), null, "prefix-LM mqa");
        // Prefix 0 on Nq > Nk is plain bottom-right causal: fully masked leading rows.
        Check.AgainstReference(new DenseInputs<float>(Mqa, 7), default(NoScoreMod), new PrefixLmMask(0), null, "prefix-LM 0 mqa");
    }

    [Fact]
    public void DocumentMask_MatchesReference()
    {
        Check.AgainstReference(new DenseInputs<float>(Square, 8), default(NoScoreMod), new DocumentMask(37), null, "documents of 37");
        Check.AgainstReference(new DenseInputs<float>(Square, 9), default(NoScoreMod), new DocumentMask(64), new AttentionOptions { Causal = true }, "documents of 64, causal");
    }

    [Fact]
    public void StripeMask_UsesHeadAndBatch_MatchesReference() =>
        Check.AgainstReference(new DenseInputs<float>(Gqa, 10), default(NoScoreMod), default(StripeMask), null, "stripes");

    [Fact]
    public void HideAll_EveryRowFullyMasked()
    {
        var run = Check.AgainstReference(new DenseInputs<float>(Gqa, 11), new TanhGateScoreMod(1f), default(HideAllMask), null, "hide all");
        Assert.All(run.Lse, l => Assert.True(float.IsPositiveInfinity(l)));
        Assert.All(run.Output, o => Assert.Equal(0f, o));
        Assert.All(run.DK, g => Assert.Equal(0f, g));
        Assert.All(run.DV, g => Assert.Equal(0f, g));
        // The same through the element path: Classify says Partial, ApplyRow hides each score.
        var partial = Check.Run(new DenseInputs<float>(Gqa, 11), default(NoScoreMod), new AlwaysPartial<HideAllMask>(default), null);
        Assert.All(partial.Lse, l => Assert.True(float.IsPositiveInfinity(l)));
        Assert.All(partial.Output, o => Assert.Equal(0f, o));
    }

    /// <summary>User modifiers after every built-in one (softcap, ALiBi, causal window, key padding, dropout) with GQA.</summary>
    [Fact]
    public void UserModsChainedWithBuiltIns_MatchReference()
    {
        var s = Gqa;
        var options = new AttentionOptions
        {
            Causal = true, WindowLeft = 40, Softcap = 3f, AlibiSlopes = OptionsTests.Slopes(s.Heads, 7),
            KeyPaddingMask = TestData.RandomMask(s.Batch, s.SeqLenK, 12, 0.8), DropoutP = 0.2f, Seed = 5, Offset = 1,
        };
        Check.AgainstReference(new DenseInputs<float>(s, 12), new TanhGateScoreMod(0.5f), new PrefixLmMask(10), options, "chained tanh + prefix");
        Check.AgainstReference(new DenseInputs<float>(s, 13), new RelativeBiasScoreMod(8, 2), default(StripeMask), options, "chained bias + stripes");
        // Score mod only / mask only next to built-ins.
        Check.AgainstReference(new DenseInputs<float>(s, 14), new RelativeBiasScoreMod(8, 3), default(NoMask), options, "chained bias");
        Check.AgainstReference(new DenseInputs<float>(s, 15), default(NoScoreMod), new DocumentMask(30), options, "chained documents");
    }

    /// <summary>Cosine attention with user modifiers (bounded ones, so the fixed shift stays valid).</summary>
    [Fact]
    public void UserModsWithCosine_MatchReference() =>
        Check.AgainstReference(new DenseInputs<float>(Mqa, 16), new TanhGateScoreMod(0.3f), new DocumentMask(50),
            new AttentionOptions { Variant = AttentionVariant.Cosine, CosineGroups = 2 }, "cosine + user mods");

    [Theory]
    [InlineData("half")]
    [InlineData("bfloat16")]
    public void UserMods_LowPrecision_MatchReference(string type)
    {
        var options = new AttentionOptions { Softcap = 5f, DropoutP = 0.1f, Seed = 2 };
        var score = new RelativeBiasScoreMod(6, 4);
        var mask = new PrefixLmMask(20);
        if (type == "half")
            Check.AgainstReference(new DenseInputs<Half>(Gqa, 17), score, mask, options, "half user mods");
        else
            Check.AgainstReference(new DenseInputs<BFloat16>(Gqa, 17), score, mask, options, "bf16 user mods");
    }

    /// <summary>Tile classification is only an optimisation: answering Partial everywhere gives the same result.</summary>
    [Fact]
    public void AlwaysPartial_EqualsPreciseClassification()
    {
        Same(new PrefixLmMask(30), Square, 20);
        Same(new DocumentMask(64), Square, 21);
        Same(new PrefixLmMask(0), Mqa, 22);
        Same(LocalWindowMask.Causal, Mqa, 23);
        Same(new LocalWindowMask(10, 70), Gqa, 24);
        var padding = TestData.RandomMask(Gqa.Batch, Gqa.SeqLenK, 25, 0.5);
        Array.Fill(padding, false, 64, 36); // batch 0, keys 64..99: an Empty tile
        Same(new KeyPaddingMask(padding, Gqa.Batch, Gqa.SeqLenK), Gqa, 25);

        static void Same<TMask>(TMask mask, AttentionShape s, int seed) where TMask : struct, IMaskMod
        {
            var x = new DenseInputs<float>(s, seed);
            var options = new AttentionOptions { DropoutP = 0.1f, Seed = 3 };
            var precise = Check.AgainstReference(x, new TanhGateScoreMod(0.4f), mask, options, $"{typeof(TMask).Name} precise");
            var partial = Check.Run(x, new TanhGateScoreMod(0.4f), new AlwaysPartial<TMask>(mask), options);
            string name = typeof(TMask).Name;
            TestData.AssertClose(partial.Output, precise.Output, 1e-6, name + " output");
            TestData.AssertClose(partial.Lse, precise.Lse, 1e-6, name + " lse");
            TestData.AssertClose(partial.DQ, precise.DQ, 1e-6, name + " dq");
            TestData.AssertClose(partial.DK, precise.DK, 1e-6, name + " dk");
            TestData.AssertClose(partial.DV, precise.DV, 1e-6, name + " dv");
        }
    }

    /// <summary>The built-in mod structs used as user mods give what the corresponding options give.</summary>
    [Fact]
    public void BuiltInStructsAsUserMods_EqualOptions()
    {
        var s = Mqa;
        var x = new DenseInputs<float>(s, 26);
        var viaOptions = Check.Run(x, new AttentionOptions { Causal = true, Softcap = 2f });
        var viaMods = Check.Run(x, new SoftcapScoreMod(2f), LocalWindowMask.Causal, null);
        TestData.AssertClose(viaMods.Output, viaOptions.Output, 1e-6, "output");
        TestData.AssertClose(viaMods.Lse, viaOptions.Lse, 1e-6, "lse");
        TestData.AssertClose(viaMods.DQ, viaOptions.DQ, 1e-6, "dq");
        TestData.AssertClose(viaMods.DK, viaOptions.DK, 1e-6, "dk");

        var slopes = OptionsTests.Slopes(s.Heads, 9);
        var a = Check.Run(x, new AttentionOptions { AlibiSlopes = slopes, Softcap = 3f });
        var b = Check.Run(x, new ChainedScoreMod<SoftcapScoreMod, AlibiScoreMod>(new SoftcapScoreMod(3f), new AlibiScoreMod(slopes, false, s.Heads)), default(NoMask), null);
        TestData.AssertClose(b.Output, a.Output, 1e-6, "softcap+alibi output");
        TestData.AssertClose(b.DQ, a.DQ, 1e-6, "softcap+alibi dq");
    }
}
