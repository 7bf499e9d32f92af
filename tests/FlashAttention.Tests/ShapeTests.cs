using Xunit;

namespace FlashAttention.Tests;

/// <summary>
/// Every head dim from 1 to 256 that matters for the tiling (powers of two and their neighbours, vector-width
/// remainders), and the odd sequence lengths of the quality bar (1, 7, 127, 1000) in both orders, forward and backward
/// against the reference.
/// </summary>
public class ShapeTests
{
    public static TheoryData<int> HeadDims() =>
        new([1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 40, 48, 63, 64, 65, 80, 96, 100, 111, 127, 128, 129, 160, 192, 200, 224, 255, 256]);

    /// <summary>GQA, Nk past one key block, Nq past one query block (for backward tiling), plain and causal.</summary>
    [Theory]
    [MemberData(nameof(HeadDims))]
    public void HeadDim_ForwardAndBackward_MatchReference(int d)
    {
        var s = new AttentionShape(1, 66, 70, 2, 1, d);
        var x = new DenseInputs<float>(s, d);
        Check.AgainstReference(x, null, $"D={d}");
        Check.AgainstReference(x, new AttentionOptions { Causal = true, DropoutP = 0.1f, Seed = (ulong)d }, $"D={d} causal dropout");
    }

    /// <summary>Low-precision storage across head dims (vector conversion paths have 8- and 16-wide bodies and scalar tails).</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(16)]
    [InlineData(33)]
    [InlineData(128)]
    [InlineData(256)]
    public void HeadDim_LowPrecision_MatchReference(int d)
    {
        var s = new AttentionShape(1, 20, 70, 2, 2, d);
        Check.AgainstReference(new DenseInputs<Half>(s, d), null, $"half D={d}");
        Check.AgainstReference(new DenseInputs<BFloat16>(s, d), null, $"bf16 D={d}");
    }

    public static TheoryData<int, int, bool> OddLengths()
    {
        var data = new TheoryData<int, int, bool>();
        foreach (var (nq, nk) in new[] { (1, 1), (1, 1000), (1000, 1), (7, 127), (127, 7), (127, 127), (1000, 127), (127, 1000), (1000, 1000) })
            foreach (bool causal in new[] { false, true })
                data.Add(nq, nk, causal);
        return data;
    }

    /// <summary>One head and a small head dim keep the N = 1000 reference affordable; causal with Nq &gt; Nk leaves fully masked rows.</summary>
    [Theory]
    [MemberData(nameof(OddLengths))]
    public void OddLengths_ForwardAndBackward_MatchReference(int nq, int nk, bool causal)
    {
        var s = new AttentionShape(1, nq, nk, 1, 1, 8);
        var x = new DenseInputs<float>(s, nq * 7 + nk);
        Check.AgainstReference(x, new AttentionOptions { Causal = causal }, $"Nq={nq} Nk={nk} causal={causal}");
    }

    /// <summary>Many batches and heads with few tokens each: the task split over (batch, head, block) is right.</summary>
    [Fact]
    public void ManyBatchesAndHeads_MatchReference()
    {
        var s = new AttentionShape(9, 3, 5, 8, 2, 12);
        Check.AgainstReference(new DenseInputs<float>(s, 1), new AttentionOptions { Causal = true, AlibiSlopes = OptionsTests.Slopes(9 * 8, 1) }, "B=9 H=8");
        var mqa = new AttentionShape(3, 70, 65, 16, 1, 16);
        Check.AgainstReference(new DenseInputs<float>(mqa, 2), new AttentionOptions { WindowLeft = 10, WindowRight = 10 }, "MQA H=16");
    }

    [Fact]
    public void AttentionShape_ReportsLengths()
    {
        var s = new AttentionShape(2, 3, 5, 4, 2, 8);
        Assert.Equal(2L * 3 * 4 * 8, s.QueryLength);
        Assert.Equal(2L * 5 * 2 * 8, s.KeyValueLength);
        Assert.Equal(2L * 4 * 3, s.LseLength);
        Assert.Equal(2L * 4 * 3 * 5, s.SoftmaxLength);
        Assert.Equal(new AttentionShape(2, 3, 5, 4, 4, 8), new AttentionShape(2, 3, 5, 4, 8));
    }

    /// <summary>The allocating convenience overloads give what the span overloads give.</summary>
    [Fact]
    public void AllocatingOverloads_EqualSpanOverloads()
    {
        var s = new AttentionShape(2, 33, 47, 4, 2, 16);
        var x = new DenseInputs<float>(s, 3);
        var options = new AttentionOptions { Causal = true, DropoutP = 0.2f, Seed = 1 };
        var spans = Check.Run(x, options);
        var forward = Attention.Forward<float>(s, x.Q, x.K, x.V, options);
        var grads = Attention.Backward<float>(s, x.Q, x.K, x.V, forward, x.DO, options);
        TestData.AssertBitIdentical(forward.Output, spans.Output, "output");
        TestData.AssertBitIdentical(forward.Lse, spans.Lse, "lse");
        TestData.AssertBitIdentical(grads.DQ, spans.DQ, "dq");
        TestData.AssertBitIdentical(grads.DK, spans.DK, "dk");
        TestData.AssertBitIdentical(grads.DV, spans.DV, "dv");
    }
}
