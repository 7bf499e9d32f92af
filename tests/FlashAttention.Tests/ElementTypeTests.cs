using FlashAttention.Cpu;
using Xunit;

namespace FlashAttention.Tests;

/// <summary>
/// The storage types: BFloat16 conversion (round to nearest even, NaN, ±∞, ±0, subnormals), the vectorised bulk
/// conversion the kernels use agreeing with the scalar one, and float / Half / BFloat16 calls against the reference.
/// </summary>
public class ElementTypeTests
{
    /// <summary>
    /// An independent round-to-nearest-even: pick the nearer of the two bfloat16 neighbours in double arithmetic, ties to
    /// the even mantissa; above the largest finite value the next neighbour is 2^128, i.e. +∞ (IEEE overflow rule).
    /// </summary>
    private static ushort ReferenceRound(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        uint sign = bits & 0x8000_0000u, magnitude = bits & 0x7FFF_FFFFu;
        if (magnitude >= 0x7F80_0000u)
            return (ushort)((sign | magnitude) >> 16); // ±∞ (NaN is checked separately)
        uint low = magnitude >> 16, high = low + 1;
        double x = BitConverter.UInt32BitsToSingle(magnitude);
        double lowValue = BitConverter.UInt32BitsToSingle(low << 16);
        double highValue = high == 0x7F80u ? Math.Pow(2, 128) : BitConverter.UInt32BitsToSingle(high << 16);
        double dLow = x - lowValue, dHigh = highValue - x;
        uint chosen = dLow < dHigh ? low : dHigh < dLow ? high : (low & 1) == 0 ? low : high;
        return (ushort)((sign >> 16) | chosen);
    }

    [Theory]
    [InlineData(1.0f, 0x3F80)]
    [InlineData(-2.0f, 0xC000)]
    [InlineData(0.0f, 0x0000)]
    [InlineData(-0.0f, 0x8000)]
    [InlineData(float.PositiveInfinity, 0x7F80)]
    [InlineData(float.NegativeInfinity, 0xFF80)]
    [InlineData(float.MaxValue, 0x7F80)] // above the midpoint between bf16 max (0x7F7F) and 2^128: overflows to +∞
    [InlineData(-float.MaxValue, 0xFF80)]
    [InlineData(3.14159265f, 0x4049)]
    public void BFloat16_KnownConversions(float value, int expectedBits)
    {
        Assert.Equal((ushort)expectedBits, ((BFloat16)value).Bits);
        Assert.Equal((ushort)expectedBits, ReferenceRound(value));
    }

    /// <summary>Exact ties go to the even mantissa, in both directions, for normal, subnormal and overflow-boundary values.</summary>
    [Theory]
    [InlineData(0x3F80_8000u, 0x3F80)] // 1 + 2^-8: halfway between 1 (even) and 1 + 2^-7 → 1
    [InlineData(0x3F81_8000u, 0x3F82)] // halfway between 0x3F81 (odd) and 0x3F82 → up
    [InlineData(0x3F80_8001u, 0x3F81)] // just above the tie → up
    [InlineData(0x3F81_7FFFu, 0x3F81)] // just below the tie → down
    [InlineData(0xBF81_8000u, 0xBF82)] // negative tie: magnitude rounds to even
    [InlineData(0x0000_8000u, 0x0000)] // subnormal tie to even (0)
    [InlineData(0x0001_8000u, 0x0002)] // subnormal tie to even (2)
    [InlineData(0x007F_FFFFu, 0x0080)] // largest subnormal rounds up to the smallest normal
    [InlineData(0x7F7F_7FFFu, 0x7F7F)] // just below the overflow midpoint → largest finite bf16
    [InlineData(0x7F7F_8000u, 0x7F80)] // the overflow midpoint: 0x7F7F is odd → +∞
    public void BFloat16_RoundsTiesToEven(uint floatBits, int expectedBits)
    {
        float value = BitConverter.UInt32BitsToSingle(floatBits);
        Assert.Equal((ushort)expectedBits, ((BFloat16)value).Bits);
        Assert.Equal((ushort)expectedBits, ReferenceRound(value));
        var bulk = new BFloat16[32];
        Elements.FromFloat<BFloat16>(Enumerable.Repeat(value, 32).ToArray(), bulk); // vector path (16 at a time) and tail
        Assert.All(bulk, b => Assert.Equal((ushort)expectedBits, b.Bits));
    }

    [Theory]
    [InlineData(0x7FC0_0000u)] // canonical quiet NaN
    [InlineData(0xFFC0_0000u)] // negative quiet NaN
    [InlineData(0x7F80_0001u)] // signalling NaN whose payload is only in the low 16 bits: truncation alone would make it +∞
    [InlineData(0xFF80_0001u)]
    [InlineData(0x7FFF_FFFFu)] // rounding up would carry into the sign bit
    [InlineData(0x7F81_2345u)]
    public void BFloat16_NaNStaysNaN_SignKept(uint floatBits)
    {
        float value = BitConverter.UInt32BitsToSingle(floatBits);
        var scalar = (BFloat16)value;
        Assert.True(float.IsNaN(scalar), $"0x{floatBits:X8} → 0x{scalar.Bits:X4} is not NaN");
        Assert.Equal(floatBits >> 31, (uint)scalar.Bits >> 15);
        var bulk = new BFloat16[19];
        Elements.FromFloat<BFloat16>(Enumerable.Repeat(value, 19).ToArray(), bulk);
        Assert.All(bulk, b => Assert.Equal(scalar.Bits, b.Bits));
    }

    /// <summary>A million random bit patterns (every exponent, both signs): scalar, vectorised bulk and independent rounding agree.</summary>
    [Fact]
    public void BFloat16_RandomBitPatterns_MatchIndependentRounding()
    {
        var rng = new Random(42);
        const int n = 1 << 20;
        var values = new float[n];
        for (int i = 0; i < n; i++)
        {
            uint bits = (uint)rng.NextInt64(0, 1L << 32);
            values[i] = BitConverter.UInt32BitsToSingle(bits);
        }
        var bulk = new BFloat16[n];
        Elements.FromFloat<BFloat16>(values, bulk);
        for (int i = 0; i < n; i++)
        {
            float v = values[i];
            var scalar = (BFloat16)v;
            if (float.IsNaN(v))
            {
                Assert.True(float.IsNaN(scalar) && float.IsNaN(bulk[i]), $"NaN 0x{BitConverter.SingleToUInt32Bits(v):X8}");
                continue;
            }
            ushort expected = ReferenceRound(v);
            if (scalar.Bits != expected || bulk[i].Bits != expected)
                Assert.Fail($"0x{BitConverter.SingleToUInt32Bits(v):X8}: scalar 0x{scalar.Bits:X4}, bulk 0x{bulk[i].Bits:X4}, expected 0x{expected:X4}");
        }
    }

    /// <summary>Every one of the 65536 bfloat16 values widens exactly and rounds back to itself (scalar and bulk).</summary>
    [Fact]
    public void BFloat16_WidenThenRound_IsIdentity()
    {
        var all = new BFloat16[65536];
        for (int b = 0; b < all.Length; b++)
            all[b] = BFloat16.FromBits((ushort)b);
        var widened = new float[all.Length];
        Elements.ToFloat<BFloat16>(all, widened);
        var back = new BFloat16[all.Length];
        Elements.FromFloat<BFloat16>(widened, back);
        for (int b = 0; b < all.Length; b++)
        {
            float f = all[b];
            Assert.Equal(BitConverter.SingleToUInt32Bits(f), BitConverter.SingleToUInt32Bits(widened[b]));
            Assert.Equal((uint)b << 16, BitConverter.SingleToUInt32Bits(f));
            if (float.IsNaN(f))
            {
                Assert.True(float.IsNaN(back[b]));
                continue;
            }
            Assert.Equal((ushort)b, ((BFloat16)f).Bits);
            Assert.Equal((ushort)b, back[b].Bits);
        }
    }

    [Fact]
    public void BFloat16_EqualityFollowsValues()
    {
        var plusZero = (BFloat16)0f;
        var minusZero = (BFloat16)(-0f);
        var nan = (BFloat16)float.NaN;
        var sameNan = BFloat16.FromBits(nan.Bits);
        Assert.True(plusZero == minusZero);
        Assert.False(nan == sameNan);
        Assert.True(nan != sameNan);
        Assert.True(nan.Equals(sameNan)); // Equals is reflexive for NaN, like float.Equals (needed for dictionaries)
        Assert.Equal(-1, ((BFloat16)1f).CompareTo((BFloat16)2f));
        Assert.Equal("1.5", ((BFloat16)1.5f).ToString());
        Assert.Equal(BFloat16.Zero, plusZero);
    }

    /// <summary>Half → float (every K/V tile of a Half call goes through it) is exact for all 65536 bit patterns.</summary>
    [Fact]
    public void Half_ToFloat_ExactForEveryBitPattern()
    {
        var halves = new Half[65536 + 5]; // odd length: the vector body and the scalar tail both run
        for (int i = 0; i < halves.Length; i++)
            halves[i] = BitConverter.UInt16BitsToHalf((ushort)i);
        var floats = new float[halves.Length];
        Elements.ToFloat<Half>(halves, floats);
        for (int i = 0; i < halves.Length; i++)
        {
            float expected = (float)halves[i];
            Assert.True(float.IsNaN(expected) ? float.IsNaN(floats[i]) : BitConverter.SingleToUInt32Bits(expected) == BitConverter.SingleToUInt32Bits(floats[i]),
                $"bits 0x{i:X4}: expected {expected}, got {floats[i]}");
        }
    }

    /// <summary>Half bulk conversion (used for inputs and outputs) rounds like the scalar cast.</summary>
    [Fact]
    public void Half_BulkConversion_MatchesScalarCast()
    {
        var values = TestData.Random(1001, 5, 300f);
        values[3] = float.NaN;
        values[4] = float.PositiveInfinity;
        values[5] = 65520f; // rounds to +∞ in Half
        values[6] = 1e-8f; // subnormal in Half
        var bulk = new Half[values.Length];
        Elements.FromFloat<Half>(values, bulk);
        for (int i = 0; i < values.Length; i++)
        {
            var expected = (Half)values[i];
            Assert.True(Half.IsNaN(expected) ? Half.IsNaN(bulk[i]) : BitConverter.HalfToUInt16Bits(expected) == BitConverter.HalfToUInt16Bits(bulk[i]),
                $"{values[i]}: {bulk[i]} vs {expected}");
        }
    }

    public static TheoryData<string, int, int, int, int, int, bool> TypedCases()
    {
        var data = new TheoryData<string, int, int, int, int, int, bool>();
        foreach (var type in new[] { "float", "half", "bfloat16" })
        {
            data.Add(type, 1, 1, 1, 1, 1, false);
            data.Add(type, 2, 7, 127, 4, 2, true);
            data.Add(type, 1, 127, 7, 2, 1, true);
            data.Add(type, 1, 130, 70, 1, 1, false);
        }
        return data;
    }

    /// <summary>Each storage type, forward and backward, against the reference on the same rounded inputs, with head dims 128 and an odd one.</summary>
    [Theory]
    [MemberData(nameof(TypedCases))]
    public void StorageType_MatchesReference(string type, int batch, int nq, int nk, int heads, int kvHeads, bool causal)
    {
        foreach (int d in new[] { 128, 5 })
        {
            var s = new AttentionShape(batch, nq, nk, heads, kvHeads, d);
            var options = new AttentionOptions { Causal = causal };
            string label = $"{type} {s} causal={causal}";
            switch (type)
            {
                case "float": Check.AgainstReference(new DenseInputs<float>(s, d), options, label); break;
                case "half": Check.AgainstReference(new DenseInputs<Half>(s, d), options, label); break;
                default: Check.AgainstReference(new DenseInputs<BFloat16>(s, d), options, label); break;
            }
        }
    }

    /// <summary>
    /// A low-precision call computes in float32: on inputs that are exactly representable in bf16, the bf16 call's output
    /// is the float call's output rounded to bf16 (within one bf16 ulp), not something accumulated in bf16.
    /// </summary>
    [Fact]
    public void BFloat16_AccumulatesInFloat32()
    {
        var s = new AttentionShape(1, 70, 300, 2, 2, 64);
        var x16 = new DenseInputs<BFloat16>(s, 77);
        var x32 = new DenseInputs<float>(s, TestData.ToFloat(x16.Q), TestData.ToFloat(x16.K), TestData.ToFloat(x16.V), TestData.ToFloat(x16.DO));
        var a = Check.Run(x16, null, backward: false);
        var b = Check.Run(x32, null, backward: false);
        TestData.AssertBitIdentical(a.Lse, b.Lse, "lse (always float32)");
        for (int i = 0; i < a.Output.Length; i++)
            Assert.Equal(((BFloat16)b.Output[i]).Bits, ((BFloat16)a.Output[i]).Bits);
    }
}
