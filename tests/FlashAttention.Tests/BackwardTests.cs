using Xunit;

namespace FlashAttention.Tests;

public class BackwardTests
{
    public static TheoryData<int, int, int, int, int, int> Shapes => new()
    {
        { 1, 1, 1, 1, 1, 1 },
        { 2, 7, 13, 2, 1, 16 },
        { 1, 127, 127, 3, 3, 64 },
        { 1, 200, 77, 4, 2, 40 },
        { 1, 65, 300, 1, 1, 128 },
        { 2, 33, 50, 2, 2, 256 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MatchesReferenceFloat(int batch, int nq, int nk, int heads, int kvHeads, int d)
    {
        var shape = new AttentionShape(batch, nq, nk, heads, kvHeads, d);
        var q = TestData.Random(shape.QueryLength, 11);
        var k = TestData.Random(shape.KeyValueLength, 12);
        var v = TestData.Random(shape.KeyValueLength, 13);
        var dO = TestData.Random(shape.QueryLength, 14);
        foreach (var options in new[]
        {
            new AttentionOptions(),
            new AttentionOptions { Causal = true },
            new AttentionOptions { WindowLeft = 5, WindowRight = 3 },
            new AttentionOptions { Softcap = 2f, Scale = 0.5f },
            new AttentionOptions { DropoutP = 0.2f, Seed = 42, Offset = 7 },
            new AttentionOptions { Variant = AttentionVariant.Cosine, Causal = true },
            new AttentionOptions { Variant = AttentionVariant.Cosine, CosineGroups = d % 2 == 0 ? 2 : 1 },
        })
        {
            var o = new float[shape.QueryLength];
            var lse = new float[shape.LseLength];
            Attention.Forward<float>(shape, q, k, v, o, lse, options);
            var dq = new float[shape.QueryLength];
            var dk = new float[shape.KeyValueLength];
            var dv = new float[shape.KeyValueLength];
            Attention.Backward<float>(shape, q, k, v, o, lse, dO, dq, dk, dv, options);
            var reference = ReferenceAttention.Backward<float>(shape, q, k, v, dO, options);
            Assert.True(TestData.RelativeError(dq, reference.DQ) <= 1e-5, $"{options}: dq error {TestData.RelativeError(dq, reference.DQ)}");
            Assert.True(TestData.RelativeError(dk, reference.DK) <= 1e-5, $"{options}: dk error {TestData.RelativeError(dk, reference.DK)}");
            Assert.True(TestData.RelativeError(dv, reference.DV) <= 1e-5, $"{options}: dv error {TestData.RelativeError(dv, reference.DV)}");
        }
    }
}
