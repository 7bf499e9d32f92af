using Xunit;

namespace FlashAttention.Tests;

/// <summary>The README's C# snippets, compiled and checked, so the front page cannot rot.</summary>
public class ReadmeExamplesTests
{
    private readonly struct DocumentMask(int[] docOfToken) : IMaskMod
    {
        public bool IsVisible(in ScorePosition at) => docOfToken[at.QueryIndex] == docOfToken[at.KeyIndex];
        public BlockCoverage Classify(in TileBounds tile) => BlockCoverage.Partial;
        public void ApplyRow(Span<float> scores, in ScorePosition rowStart) => ScoreMods.MaskEach(this, scores, rowStart);
    }

    [Fact]
    public void QuickStartRunsAndMatchesTheReference()
    {
        var shape = new AttentionShape(2, 70, 70, 4, 2, 32);
        float[] q = TestData.Random(shape.QueryLength, 101), k = TestData.Random(shape.KeyValueLength, 102),
            v = TestData.Random(shape.KeyValueLength, 103), dOutput = TestData.Random(shape.QueryLength, 104);
        var options = new AttentionOptions { Causal = true, DropoutP = 0.1f, Seed = 1234 };

        var output = new float[shape.QueryLength];
        var lse = new float[shape.LseLength];
        Attention.Forward<float>(shape, q, k, v, output, lse, options);
        var dq = new float[shape.QueryLength];
        var dk = new float[shape.KeyValueLength];
        var dv = new float[shape.KeyValueLength];
        Attention.Backward<float>(shape, q, k, v, output, lse, dOutput, dq, dk, dv, options);

        var fwd = Attention.Forward<float>(shape, q, k, v, options);
        var grads = Attention.Backward<float>(shape, q, k, v, fwd, dOutput, options);
        Assert.Equal(output, fwd.Output);
        Assert.Equal(dq, grads.DQ);
        Assert.Equal(dk, grads.DK);
        Assert.Equal(dv, grads.DV);

        var reference = ReferenceAttention.Backward<float>(shape, q, k, v, dOutput, options);
        Assert.True(TestData.RelativeError(dq, reference.DQ) < 1e-5);
    }

    [Fact]
    public void VarlenAndUserMaskSnippetsRun()
    {
        var layout = new VarlenLayout(cuSeqlensQ: [0, 5, 12], cuSeqlensK: [0, 7, 19], heads: 8, kvHeads: 8, headDim: 64);
        var q = TestData.Convert<Half>(TestData.Random(layout.QueryLength, 105));
        var k = TestData.Convert<Half>(TestData.Random(layout.KeyValueLength, 106));
        var v = TestData.Convert<Half>(TestData.Random(layout.KeyValueLength, 107));
        var output = new Half[layout.QueryLength];
        var lse = new float[layout.LseLength];
        Attention.ForwardVarlen<Half>(layout, q, k, v, output, lse, new AttentionOptions { Causal = true });
        var reference = ReferenceAttention.ForwardVarlen<Half>(layout, q, k, v, new AttentionOptions { Causal = true });
        Assert.True(TestData.RelativeError(TestData.ToFloat(output), reference.Output) < 2e-3);

        var shape = new AttentionShape(1, 40, 40, 2, 16);
        var docs = Enumerable.Range(0, 40).Select(i => i / 13).ToArray();
        float[] qf = TestData.Random(shape.QueryLength, 108), kf = TestData.Random(shape.KeyValueLength, 109), vf = TestData.Random(shape.KeyValueLength, 110);
        var o = new float[shape.QueryLength];
        var l = new float[shape.LseLength];
        Attention.Forward(shape, qf, kf, vf, o, l, default(NoScoreMod), new DocumentMask(docs), new AttentionOptions());
        var expected = ReferenceAttention.Forward(shape, qf, kf, vf, default(NoScoreMod), new DocumentMask(docs));
        Assert.True(TestData.RelativeError(o, expected.Output) < 1e-5);
    }
}
