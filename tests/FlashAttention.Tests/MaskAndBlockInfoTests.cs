using Xunit;

namespace FlashAttention.Tests;

/// <summary>
/// Brute-force property tests of the tile-skipping machinery: BlockInfo's key/query block ranges contain every visible
/// pair (and are tight at both ends), every mask's Classify never calls a tile Full or Empty wrongly, ApplyRow hides
/// exactly what IsVisible hides, and the built-in score modifiers' row forms equal their scalar forms.
/// </summary>
public class MaskAndBlockInfoTests
{
    private static bool Visible(int left, int right, int i, int j, int nq, int nk)
    {
        long offset = (long)j - (i + nk - nq);
        return (left < 0 || offset >= -left) && (right < 0 || offset <= right);
    }

    private static int RandomBound(Random rng) => rng.Next(4) == 0 ? -1 : rng.Next(3) == 0 ? rng.Next(3) : rng.Next(40);

    [Fact]
    public void KeyBlocks_ContainEveryVisiblePair_AndAreTight()
    {
        var rng = new Random(1);
        for (int trial = 0; trial < 3000; trial++)
        {
            int nq = rng.Next(1, 90), nk = rng.Next(1, 90), block = rng.Next(1, 20), qBlock = rng.Next(1, 20);
            int left = RandomBound(rng), right = RandomBound(rng);
            for (int qs = 0; qs < nq; qs += qBlock)
            {
                int qe = Math.Min(nq, qs + qBlock);
                var (first, end) = BlockInfo.KeyBlocks(left, right, qs, qe, nq, nk, block);
                string at = $"left={left} right={right} nq={nq} nk={nk} rows [{qs},{qe}) block={block}: [{first},{end})";
                int firstSeen = int.MaxValue, lastSeen = -1;
                for (int i = qs; i < qe; i++)
                    for (int j = 0; j < nk; j++)
                        if (Visible(left, right, i, j, nq, nk))
                        {
                            firstSeen = Math.Min(firstSeen, j / block);
                            lastSeen = Math.Max(lastSeen, j / block);
                        }
                if (lastSeen < 0)
                {
                    Assert.True(first >= end, $"no visible pair, but a non-empty range: {at}");
                    continue;
                }
                Assert.True(first <= firstSeen && lastSeen < end, $"visible key blocks {firstSeen}..{lastSeen} outside {at}");
                Assert.True(first == firstSeen && end == lastSeen + 1, $"range not tight (visible {firstSeen}..{lastSeen}): {at}");
                Assert.True(end <= BlockInfo.BlockCount(nk, block), $"range past the last block: {at}");
            }
        }
    }

    [Fact]
    public void QueryBlocks_ContainEveryVisiblePair_AndAreTight()
    {
        var rng = new Random(2);
        for (int trial = 0; trial < 3000; trial++)
        {
            int nq = rng.Next(1, 90), nk = rng.Next(1, 90), block = rng.Next(1, 20), kBlock = rng.Next(1, 20);
            int left = RandomBound(rng), right = RandomBound(rng);
            for (int ks = 0; ks < nk; ks += kBlock)
            {
                int ke = Math.Min(nk, ks + kBlock);
                var (first, end) = BlockInfo.QueryBlocks(left, right, ks, ke, nq, nk, block);
                string at = $"left={left} right={right} nq={nq} nk={nk} keys [{ks},{ke}) block={block}: [{first},{end})";
                int firstSeen = int.MaxValue, lastSeen = -1;
                for (int j = ks; j < ke; j++)
                    for (int i = 0; i < nq; i++)
                        if (Visible(left, right, i, j, nq, nk))
                        {
                            firstSeen = Math.Min(firstSeen, i / block);
                            lastSeen = Math.Max(lastSeen, i / block);
                        }
                if (lastSeen < 0)
                {
                    Assert.True(first >= end, $"no visible pair, but a non-empty range: {at}");
                    continue;
                }
                Assert.True(first <= firstSeen && lastSeen < end, $"visible query blocks {firstSeen}..{lastSeen} outside {at}");
                Assert.True(first == firstSeen && end == lastSeen + 1, $"range not tight (visible {firstSeen}..{lastSeen}): {at}");
                Assert.True(end <= BlockInfo.BlockCount(nq, block), $"range past the last block: {at}");
            }
        }
    }

    [Theory]
    [InlineData(0, 64, 0)]
    [InlineData(1, 64, 1)]
    [InlineData(64, 64, 1)]
    [InlineData(65, 64, 2)]
    [InlineData(1000, 7, 143)]
    public void BlockCount_RoundsUp(int length, int block, int expected) => Assert.Equal(expected, BlockInfo.BlockCount(length, block));

    /// <summary>Classify over random tiles vs brute force over the tile's pairs: Full ⇒ all visible, Empty ⇒ none visible.</summary>
    private static void AssertClassifySound<TMask>(TMask mask, Random rng, int trials, int batch, int maxLen, bool exact, string name)
        where TMask : struct, IMaskMod
    {
        for (int t = 0; t < trials; t++)
        {
            int nq = rng.Next(1, maxLen), nk = rng.Next(1, maxLen), b = rng.Next(batch), h = rng.Next(3);
            int qs = rng.Next(nq), qe = rng.Next(qs + 1, nq + 1), ks = rng.Next(nk), ke = rng.Next(ks + 1, nk + 1);
            var tile = new TileBounds(b, h, qs, qe, ks, ke, nq, nk);
            var coverage = mask.Classify(tile);
            int visible = 0, total = (qe - qs) * (ke - ks);
            for (int i = qs; i < qe; i++)
                for (int j = ks; j < ke; j++)
                    visible += mask.IsVisible(new ScorePosition(b, h, i, j, nq, nk)) ? 1 : 0;
            if (coverage == BlockCoverage.Full)
                Assert.True(visible == total, $"{name}: {tile} called Full but {total - visible} of {total} pairs are hidden");
            if (coverage == BlockCoverage.Empty)
                Assert.True(visible == 0, $"{name}: {tile} called Empty but {visible} pairs are visible");
            if (exact && coverage == BlockCoverage.Partial)
                Assert.True(visible > 0 && visible < total, $"{name}: {tile} called Partial but {visible} of {total} are visible (exact classifier)");
        }
    }

    /// <summary>Key padding masks need a stride (the Nk of the mask), so tiles are drawn with Nk = stride.</summary>
    private static void AssertKeyPaddingClassifySound(Random rng, int trials)
    {
        for (int t = 0; t < trials; t++)
        {
            int batch = rng.Next(1, 4), nk = rng.Next(1, 150), nq = rng.Next(1, 20);
            var keep = TestData.RandomMask(batch, nk, rng.Next(), rng.NextDouble());
            // Long runs of padding so that Empty and Full tiles occur.
            if (rng.Next(2) == 0)
            {
                int start = rng.Next(keep.Length);
                Array.Fill(keep, rng.Next(2) == 0, start, rng.Next(keep.Length - start + 1));
            }
            for (int b = 0; b < batch; b++)
            {
                int cut = rng.Next(nk + 1);
                for (int j = cut; j < nk; j++)
                    keep[b * nk + j] = false;
            }
            var mask = new KeyPaddingMask(keep, batch, nk);
            for (int u = 0; u < 20; u++)
            {
                int b = rng.Next(batch), ks = rng.Next(nk), ke = rng.Next(ks + 1, nk + 1), qs = rng.Next(nq), qe = rng.Next(qs + 1, nq + 1);
                var tile = new TileBounds(b, 0, qs, qe, ks, ke, nq, nk);
                var coverage = mask.Classify(tile);
                int kept = 0;
                for (int j = ks; j < ke; j++)
                {
                    bool visible = mask.IsVisible(new ScorePosition(b, 0, qs, j, nq, nk));
                    Assert.Equal(keep[b * nk + j], visible);
                    kept += visible ? 1 : 0;
                }
                var expected = kept == 0 ? BlockCoverage.Empty : kept == ke - ks ? BlockCoverage.Full : BlockCoverage.Partial;
                Assert.Equal(expected, coverage);
            }
        }
    }

    [Fact]
    public void LocalWindowMask_ClassifyIsExact()
    {
        var rng = new Random(3);
        for (int n = 0; n < 300; n++)
            AssertClassifySound(new LocalWindowMask(RandomBound(rng), RandomBound(rng)), rng, 30, 1, 100, exact: true, "window");
        AssertClassifySound(LocalWindowMask.Causal, rng, 3000, 1, 150, exact: true, "causal");
    }

    [Fact]
    public void KeyPaddingMask_ClassifyIsExact() => AssertKeyPaddingClassifySound(new Random(4), 300);

    [Fact]
    public void UserMasks_ClassifyIsSound()
    {
        var rng = new Random(5);
        for (int n = 0; n < 50; n++)
        {
            AssertClassifySound(new PrefixLmMask(rng.Next(0, 60)), rng, 60, 2, 120, exact: true, "prefix-LM");
            AssertClassifySound(new DocumentMask(rng.Next(1, 40)), rng, 60, 2, 120, exact: true, "documents");
        }
        AssertClassifySound(default(StripeMask), rng, 500, 3, 60, exact: false, "stripes");
        AssertClassifySound(default(NoMask), rng, 500, 3, 60, exact: true, "no mask");
        AssertClassifySound(default(HideAllMask), rng, 500, 3, 60, exact: true, "hide all");
    }

    [Fact]
    public void CombinedMask_ClassifyIsSound()
    {
        var rng = new Random(6);
        for (int n = 0; n < 200; n++)
        {
            var window = new LocalWindowMask(RandomBound(rng), RandomBound(rng));
            AssertClassifySound(new CombinedMask<LocalWindowMask, PrefixLmMask>(window, new PrefixLmMask(rng.Next(40))), rng, 30, 1, 100, exact: false, "window ∧ prefix");
            AssertClassifySound(new CombinedMask<DocumentMask, LocalWindowMask>(new DocumentMask(rng.Next(1, 30)), window), rng, 30, 1, 100, exact: false, "documents ∧ window");
        }
        var keep = TestData.RandomMask(2, 100, 7, 0.5);
        Array.Fill(keep, false, 30, 40);
        Array.Fill(keep, true, 100, 50);
        var padding = new KeyPaddingMask(keep, 2, 100);
        var combined = new CombinedMask<LocalWindowMask, KeyPaddingMask>(new LocalWindowMask(20, 5), padding);
        for (int t = 0; t < 3000; t++)
        {
            int b = rng.Next(2), nq = rng.Next(1, 100), qs = rng.Next(nq), qe = rng.Next(qs + 1, nq + 1), ks = rng.Next(100), ke = rng.Next(ks + 1, 101);
            var tile = new TileBounds(b, 0, qs, qe, ks, ke, nq, 100);
            var coverage = combined.Classify(tile);
            int visible = 0, total = (qe - qs) * (ke - ks);
            for (int i = qs; i < qe; i++)
                for (int j = ks; j < ke; j++)
                    visible += combined.IsVisible(new ScorePosition(b, 0, i, j, nq, 100)) ? 1 : 0;
            Assert.False(coverage == BlockCoverage.Full && visible != total, $"{tile} Full with hidden pairs");
            Assert.False(coverage == BlockCoverage.Empty && visible != 0, $"{tile} Empty with visible pairs");
        }
    }

    /// <summary>ApplyRow sets exactly the hidden scores to −∞ and leaves the others bit-identical, for any row segment.</summary>
    private static void AssertApplyRowMatchesIsVisible<TMask>(TMask mask, Random rng, int trials, int batch, int nkLimit, string name)
        where TMask : struct, IMaskMod
    {
        for (int t = 0; t < trials; t++)
        {
            int nq = rng.Next(1, 100), nk = nkLimit > 0 ? nkLimit : rng.Next(1, 100), b = rng.Next(batch), h = rng.Next(3), i = rng.Next(nq);
            int ks = rng.Next(nk), count = rng.Next(1, nk - ks + 1);
            var scores = TestData.Random(count, t);
            var row = (float[])scores.Clone();
            var start = new ScorePosition(b, h, i, ks, nq, nk);
            mask.ApplyRow(row, start);
            for (int c = 0; c < count; c++)
            {
                bool visible = mask.IsVisible(start with { KeyIndex = ks + c });
                Assert.True(visible ? BitConverter.SingleToUInt32Bits(row[c]) == BitConverter.SingleToUInt32Bits(scores[c]) : float.IsNegativeInfinity(row[c]),
                    $"{name}: row {i} key {ks + c} (nq={nq} nk={nk}) visible={visible} score {scores[c]} → {row[c]}");
            }
        }
    }

    [Fact]
    public void ApplyRow_HidesExactlyTheInvisibleScores()
    {
        var rng = new Random(8);
        for (int n = 0; n < 200; n++)
            AssertApplyRowMatchesIsVisible(new LocalWindowMask(RandomBound(rng), RandomBound(rng)), rng, 10, 1, 0, "window");
        var keep = TestData.RandomMask(3, 77, 9, 0.5);
        AssertApplyRowMatchesIsVisible(new KeyPaddingMask(keep, 3, 77), rng, 500, 3, 77, "key padding");
        AssertApplyRowMatchesIsVisible(new CombinedMask<LocalWindowMask, KeyPaddingMask>(new LocalWindowMask(9, 2), new KeyPaddingMask(keep, 3, 77)), rng, 500, 3, 77, "combined");
        AssertApplyRowMatchesIsVisible(default(NoMask), rng, 100, 3, 0, "no mask");
        AssertApplyRowMatchesIsVisible(new PrefixLmMask(13), rng, 300, 3, 0, "prefix-LM");
    }

    [Fact]
    public void KeyPaddingMask_RejectsWrongLength() =>
        Assert.Throws<ArgumentException>(() => new KeyPaddingMask(new bool[10], 2, 6));

    /// <summary>The vectorised row forms of the built-in score modifiers equal their scalar Apply/Derivative (and ScoreMods.ApplyEach).</summary>
    [Fact]
    public void BuiltInScoreMods_RowFormsMatchScalarForms()
    {
        var rng = new Random(10);
        var slopes = TestData.Uniform(6, 11, 0.1f, 1f);
        Compare(new SoftcapScoreMod(2.5f), "softcap");
        Compare(new AlibiScoreMod(slopes, false, 6), "alibi [H]");
        Compare(new AlibiScoreMod(slopes, true, 3), "alibi [B,H]");
        Compare(new ChainedScoreMod<SoftcapScoreMod, AlibiScoreMod>(new SoftcapScoreMod(1.5f), new AlibiScoreMod(slopes, false, 6)), "softcap→alibi");
        Compare(new ChainedScoreMod<SoftcapScoreMod, TanhGateScoreMod>(new SoftcapScoreMod(4f), new TanhGateScoreMod(0.5f)), "softcap→tanh gate");
        Compare(default(NoScoreMod), "none");

        void Compare<TMod>(TMod mod, string name) where TMod : struct, IScoreMod
        {
            for (int t = 0; t < 60; t++)
            {
                int nq = rng.Next(1, 80), nk = rng.Next(1, 600), i = rng.Next(nq), ks = rng.Next(nk), count = rng.Next(1, nk - ks + 1);
                var start = new ScorePosition(rng.Next(2), rng.Next(3), i, ks, nq, nk);
                var scores = TestData.Random(count, t, 3f);
                var row = (float[])scores.Clone();
                var derivatives = new float[count];
                mod.ApplyRow(row, derivatives, start);
                var each = (float[])scores.Clone();
                var eachDerivatives = new float[count];
                ScoreMods.ApplyEach(mod, each, eachDerivatives, start);
                var noDerivatives = (float[])scores.Clone();
                mod.ApplyRow(noDerivatives, default, start);
                for (int c = 0; c < count; c++)
                {
                    var at = start with { KeyIndex = ks + c };
                    float expected = mod.Apply(scores[c], at), expectedDerivative = mod.Derivative(scores[c], at);
                    Assert.True(Math.Abs(row[c] - expected) <= 1e-5f * Math.Max(1f, Math.Abs(expected)), $"{name}: f({scores[c]}) row {row[c]} vs scalar {expected}");
                    Assert.True(Math.Abs(derivatives[c] - expectedDerivative) <= 1e-5f, $"{name}: f'({scores[c]}) row {derivatives[c]} vs scalar {expectedDerivative}");
                    Assert.Equal(row[c], noDerivatives[c]);
                    Assert.Equal(expected, each[c]);
                    Assert.Equal(expectedDerivative, eachDerivatives[c]);
                }
            }
        }
    }

    /// <summary>Derivatives are right: Derivative ≈ a central finite difference of Apply (checked in double around float inputs).</summary>
    [Fact]
    public void ScoreModDerivatives_MatchFiniteDifferences()
    {
        var slopes = TestData.Uniform(3, 12, 0.1f, 1f);
        Check(new SoftcapScoreMod(2f), "softcap");
        Check(new TanhGateScoreMod(0.7f), "tanh gate");
        Check(new ChainedScoreMod<SoftcapScoreMod, TanhGateScoreMod>(new SoftcapScoreMod(3f), new TanhGateScoreMod(0.6f)), "chained");
        Check(new AlibiScoreMod(slopes, false, 3), "alibi");

        static void Check<TMod>(TMod mod, string name) where TMod : struct, IScoreMod
        {
            var rng = new Random(13);
            for (int t = 0; t < 500; t++)
            {
                float s = (float)(rng.NextDouble() * 8 - 4);
                var at = new ScorePosition(rng.Next(2), rng.Next(3), rng.Next(50), rng.Next(50), 50, 50);
                const float h = 1e-2f;
                double numeric = ((double)mod.Apply(s + h, at) - mod.Apply(s - h, at)) / (2 * h);
                Assert.True(Math.Abs(numeric - mod.Derivative(s, at)) < 2e-3, $"{name}: f'({s}) = {mod.Derivative(s, at)}, finite difference {numeric}");
            }
        }
    }
}
