using Xunit;

namespace FlashAttention.Tests;

/// <summary>
/// Philox4x32-10 against Random123's known-answer vectors, and the dropout mask built on it: reproducible from
/// (seed, offset), different for different (seed, offset) and positions, a keep rate within statistical bounds,
/// and the same mask in forward and backward.
/// </summary>
public class DropoutTests
{
    /// <summary>
    /// Random123 1.14 examples/kat_vectors, the three "philox4x32 10" lines (counter[4], key[2] → output[4]).
    /// Checked against several independent copies of that file.
    /// </summary>
    [Theory]
    [InlineData(0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u)]
    [InlineData(0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu)]
    [InlineData(0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u, 0xa4093822u, 0x299f31d0u, 0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u)]
    public void Philox4x32_10_KnownAnswers(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1, uint x0, uint x1, uint x2, uint x3)
    {
        var result = Philox.Generate(c0, c1, c2, c3, k0, k1);
        Assert.Equal((x0, x1, x2, x3), result);
    }

    [Fact]
    public void DropoutMask_Describes_Probability()
    {
        var m = new DropoutMask(0.25f, 1, 2, 3);
        Assert.True(m.Enabled);
        Assert.Equal(0.25f, m.Probability);
        Assert.Equal((uint)Math.Round(0.75 * 4294967296.0), m.KeepThreshold);
        Assert.Equal(1f / 0.75f, m.KeepScale);
        var off = new DropoutMask(0f, 1, 2, 3);
        Assert.False(off.Enabled);
        Assert.True(off.IsKept(0, 0, 0, 0));
    }

    [Theory]
    [InlineData(1f)]
    [InlineData(-0.1f)]
    [InlineData(float.NaN)]
    [InlineData(1.5f)]
    public void DropoutMask_RejectsProbabilityOutsideZeroOne(float p) =>
        Assert.Throws<ArgumentException>(() => new DropoutMask(p, 0, 0, 1));

    /// <summary>
    /// The keep decision is Philox's word (key mod 4) of counter (key/4, query, batch·heads + head, low32(offset)) with key
    /// (low32(seed), high32(seed) ^ high32(offset)) compared to the threshold: the documented definition that the GPU must
    /// reproduce bit for bit.
    /// </summary>
    [Fact]
    public void DropoutMask_IsKept_FollowsDocumentedCounterLayout()
    {
        ulong seed = 0x1234_5678_9ABC_DEF0, offset = 0x0F0F_0000_0000_0021;
        var m = new DropoutMask(0.4f, seed, offset, heads: 5);
        var rng = new Random(3);
        for (int n = 0; n < 2000; n++)
        {
            int b = rng.Next(4), h = rng.Next(5), i = rng.Next(3000), j = rng.Next(3000);
            var x = Philox.Generate((uint)j / 4, (uint)i, (uint)(b * 5 + h), (uint)offset, (uint)seed, (uint)(seed >> 32) ^ (uint)(offset >> 32));
            uint word = (j % 4) switch { 0 => x.X0, 1 => x.X1, 2 => x.X2, _ => x.X3 };
            Assert.Equal(word < m.KeepThreshold, m.IsKept(b, h, i, j));
        }
    }

    /// <summary>
    /// The row helpers the kernels use (zero or negate the dropped entries) agree with IsKept for every start alignment and
    /// length, including runs long enough for a vectorised path (16 keys per step) plus a tail.
    /// </summary>
    [Theory]
    [InlineData(0.5f)]
    [InlineData(0.1f)]
    public void DropoutMask_RowHelpers_AgreeWithIsKept(float p)
    {
        var m = new DropoutMask(p, 77, 5, heads: 3);
        for (int first = 0; first < 9; first++)
            foreach (int length in new[] { 0, 1, 2, 3, 4, 5, 7, 13, 15, 16, 17, 31, 32, 33, 50, 64, 71 })
            {
                var values = TestData.Uniform(length, first * 31 + length, 0.1f, 1f);
                var zeroed = (float[])values.Clone();
                var marked = (float[])values.Clone();
                m.ZeroDropped(zeroed, 1, 2, 40, first);
                m.MarkDropped(marked, 1, 2, 40, first);
                for (int c = 0; c < length; c++)
                {
                    bool kept = m.IsKept(1, 2, 40, first + c);
                    Assert.Equal(kept ? values[c] : 0f, zeroed[c]);
                    Assert.Equal(kept ? values[c] : -values[c], marked[c]);
                }
            }
    }

    private static bool[] MaskOver(DropoutMask m, int batch, int heads, int rows, int keys)
    {
        var kept = new bool[batch * heads * rows * keys];
        int n = 0;
        for (int b = 0; b < batch; b++)
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < rows; i++)
                    for (int j = 0; j < keys; j++)
                        kept[n++] = m.IsKept(b, h, i, j);
        return kept;
    }

    private static void AssertWithinSigmas(long hits, long trials, double probability, double sigmas, string what)
    {
        double mean = trials * probability, sd = Math.Sqrt(trials * probability * (1 - probability));
        Assert.True(Math.Abs(hits - mean) <= sigmas * sd,
            $"{what}: {hits} of {trials} ({(double)hits / trials:F5}), expected {probability:F5} ± {sigmas}σ ({sigmas * sd / trials:F5})");
    }

    /// <summary>Keep rate within 5σ overall, for each of the four Philox output words, and for neighbouring pairs (both kept ≈ (1−p)²).</summary>
    [Theory]
    [InlineData(0.1f)]
    [InlineData(0.5f)]
    [InlineData(0.9f)]
    public void KeepRate_WithinFiveSigma(float p)
    {
        var m = new DropoutMask(p, 2024, 17, heads: 3);
        const int batch = 2, heads = 3, rows = 200, keys = 400;
        var kept = MaskOver(m, batch, heads, rows, keys);
        double keep = 1.0 - p;
        AssertWithinSigmas(kept.Count(k => k), kept.Length, keep, 5, $"p={p} overall");
        for (int lane = 0; lane < 4; lane++)
        {
            long hits = 0, trials = 0;
            for (int n = lane; n < kept.Length; n += 4)
            {
                trials++;
                hits += kept[n] ? 1 : 0;
            }
            AssertWithinSigmas(hits, trials, keep, 5, $"p={p} word {lane}");
        }
        // Neighbours inside one Philox call (j, j+1 with j even) and across calls (j = 3 mod 4, j+1): no correlation.
        foreach (int start in new[] { 0, 3 })
        {
            long both = 0, trials = 0;
            for (int row = 0; row < batch * heads * rows; row++)
                for (int j = start; j + 1 < keys; j += 4)
                {
                    trials++;
                    both += kept[row * keys + j] && kept[row * keys + j + 1] ? 1 : 0;
                }
            AssertWithinSigmas(both, trials, keep * keep, 5, $"p={p} pairs from {start}");
        }
    }

    /// <summary>Changing the offset, the seed, either's high word, or the (batch, head) gives an independent mask: about 2p(1−p) of the entries differ.</summary>
    [Theory]
    [InlineData(0.1f)]
    [InlineData(0.5f)]
    public void DifferentSeedOrOffset_GivesIndependentMask(float p)
    {
        const ulong seed = 0x0000_0001_0000_0005, offset = 9;
        var baseMask = MaskOver(new DropoutMask(p, seed, offset, 2), 2, 2, 100, 200);
        double differ = 2 * p * (1 - p);
        foreach (var (s, o, what) in new[]
        {
            (seed, offset + 1, "offset + 1"),
            (seed + 1, offset, "seed + 1"),
            (seed + (1UL << 32), offset, "seed high word"),
            (seed, offset + (1UL << 32), "offset high word"),
        })
        {
            var other = MaskOver(new DropoutMask(p, s, o, 2), 2, 2, 100, 200);
            long changes = 0;
            for (int n = 0; n < baseMask.Length; n++)
                changes += baseMask[n] != other[n] ? 1 : 0;
            AssertWithinSigmas(changes, baseMask.Length, differ, 5, $"p={p} {what}");
        }
        // (b=0, h=1) and (b=1, h=0) are different streams.
        var m = new DropoutMask(p, seed, offset, 2);
        long headBatch = 0, count = 0;
        for (int i = 0; i < 100; i++)
            for (int j = 0; j < 300; j++, count++)
                headBatch += m.IsKept(0, 1, i, j) != m.IsKept(1, 0, i, j) ? 1 : 0;
        AssertWithinSigmas(headBatch, count, differ, 5, $"p={p} (0,1) vs (1,0)");
    }

    /// <summary>The kernel's mask, read from the returned softmax sign bits, has the right keep rate too.</summary>
    [Theory]
    [InlineData(0.1f)]
    [InlineData(0.5f)]
    public void KernelMask_KeepRateWithinFiveSigma(float p)
    {
        var s = new AttentionShape(2, 150, 200, 2, 1, 8);
        var x = new DenseInputs<float>(s, 40);
        var run = Check.Run(x, new AttentionOptions { DropoutP = p, Seed = 5, Offset = 6 }, backward: false, softmax: true);
        long kept = run.Softmax.Count(v => !float.IsNegative(v));
        AssertWithinSigmas(kept, run.Softmax.Length, 1 - p, 5, $"p={p} from softmax signs");
    }

    /// <summary>Same inputs, seed and offset: bit-identical output, LSE, softmax and gradients.</summary>
    [Fact]
    public void SameSeedAndOffset_Reproducible()
    {
        var s = new AttentionShape(2, 70, 90, 4, 2, 16);
        var x = new DenseInputs<float>(s, 41);
        var options = new AttentionOptions { DropoutP = 0.3f, Seed = 123, Offset = 456, Causal = true };
        var a = Check.Run(x, options, softmax: true);
        var b = Check.Run(x, options with { }, softmax: true);
        TestData.AssertBitIdentical(a.Output, b.Output, "output");
        TestData.AssertBitIdentical(a.Softmax, b.Softmax, "softmax");
        TestData.AssertBitIdentical(a.DQ, b.DQ, "dq");
        TestData.AssertBitIdentical(a.DK, b.DK, "dk");
        TestData.AssertBitIdentical(a.DV, b.DV, "dv");
    }

    /// <summary>A different offset or seed changes the kernel's output (the mask really depends on them).</summary>
    [Fact]
    public void DifferentSeedOrOffset_ChangesOutput()
    {
        var s = new AttentionShape(1, 40, 50, 2, 2, 16);
        var x = new DenseInputs<float>(s, 42);
        var options = new AttentionOptions { DropoutP = 0.3f, Seed = 1, Offset = 2 };
        var a = Check.Run(x, options, backward: false, softmax: true);
        foreach (var other in new[] { options with { Offset = 3 }, options with { Seed = 2 } })
        {
            var b = Check.Run(x, other, backward: false, softmax: true);
            Assert.True(TestData.RelativeError(b.Output, a.Output) > 1e-2, $"{other}: output barely changed");
            int signFlips = a.Softmax.Zip(b.Softmax).Count(t => float.IsNegative(t.First) != float.IsNegative(t.Second));
            Assert.True(signFlips > a.Softmax.Length / 5, $"{other}: only {signFlips} mask entries changed");
        }
    }

    /// <summary>
    /// Forward/backward consistency: the backward regenerates the forward's mask, so gradients match the reference (which
    /// regenerates it independently from IsKept); a backward told a different seed must not match, which shows the test
    /// can tell the two apart.
    /// </summary>
    [Theory]
    [InlineData(0.1f)]
    [InlineData(0.5f)]
    public void Backward_RegeneratesForwardMask(float p)
    {
        var s = new AttentionShape(2, 67, 131, 4, 2, 32);
        var x = new DenseInputs<float>(s, 43);
        var options = new AttentionOptions { DropoutP = p, Seed = 31337, Offset = 1 << 20, WindowLeft = 50, WindowRight = 20 };
        Check.AgainstReference(x, options, $"dropout {p}");

        var o = new float[s.QueryLength];
        var lse = new float[s.LseLength];
        Attention.Forward<float>(s, x.Q, x.K, x.V, o, lse, options);
        var dq = new float[s.QueryLength];
        var dk = new float[s.KeyValueLength];
        var dv = new float[s.KeyValueLength];
        Attention.Backward<float>(s, x.Q, x.K, x.V, o, lse, x.DO, dq, dk, dv, options with { Seed = 31338 });
        var reference = ReferenceAttention.Backward<float>(s, x.Q, x.K, x.V, x.DO, options);
        Assert.True(TestData.RelativeError(dv, reference.DV) > 1e-2, "a backward with another seed should not reproduce dv");
    }
}
