using Xunit;

namespace FlashAttention.Tests;

public class ForwardTests
{
    public static TheoryData<int, int, int, int, int, int> Shapes => new()
    {
        { 1, 1, 1, 1, 1, 1 },
        { 2, 7, 13, 2, 1, 16 },
        { 1, 127, 127, 3, 3, 64 },
        { 1, 200, 77, 4, 2, 40 },
        { 1, 65, 1000, 1, 1, 128 },
        { 2, 33, 50, 2, 2, 256 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MatchesReferenceFloat(int batch, int nq, int nk, int heads, int kvHeads, int d)
    {
        var shape = new AttentionShape(batch, nq, nk, heads, kvHeads, d);
        var q = TestData.Random(shape.QueryLength, 1);
        var k = TestData.Random(shape.KeyValueLength, 2);
        var v = TestData.Random(shape.KeyValueLength, 3);
        foreach (var options in new[]
        {
            new AttentionOptions(),
            new AttentionOptions { Causal = true },
            new AttentionOptions { WindowLeft = 5, WindowRight = 3 },
            new AttentionOptions { Softcap = 2f, Scale = 0.5f },
            new AttentionOptions { DropoutP = 0.2f, Seed = 42, Offset = 7 },
            new AttentionOptions { Variant = AttentionVariant.Cosine, Causal = true },
        })
        {
            var o = new float[shape.QueryLength];
            var lse = new float[shape.LseLength];
            Attention.Forward<float>(shape, q, k, v, o, lse, options);
            var reference = ReferenceAttention.Forward<float>(shape, q, k, v, options);
            double errO = TestData.RelativeError(o, reference.Output);
            double errL = TestData.RelativeError(lse, reference.Lse);
            Assert.True(errO <= 1e-5, $"{options}: output error {errO}");
            Assert.True(errL <= 1e-5, $"{options}: lse error {errL}");
        }
    }

    /// <summary>
    /// A NaN in one query's input makes that query's output and LSE NaN and leaves every other query finite (PyTorch's
    /// behaviour): the softmax's max and exp, whose min/max instructions may drop a NaN operand, must not hide it.
    /// </summary>
    [Theory]
    [InlineData(false, 0)]
    [InlineData(false, 100)]
    [InlineData(true, 100)]
    public void NaNInOneQueryPropagatesToThatQueryOnly(bool causal, int row)
    {
        // Nq ≤ Nk: with the bottom-right causal alignment every query then sees at least one key.
        var shape = new AttentionShape(1, 130, 200, 1, 1, 64);
        var q = TestData.Random(shape.QueryLength, 4);
        var k = TestData.Random(shape.KeyValueLength, 5);
        var v = TestData.Random(shape.KeyValueLength, 6);
        q[row * shape.HeadDim + 3] = float.NaN;
        var o = new float[shape.QueryLength];
        var lse = new float[shape.LseLength];
        Attention.Forward<float>(shape, q, k, v, o, lse, new AttentionOptions { Causal = causal });
        for (int i = 0; i < shape.SeqLenQ; i++)
        {
            var outRow = o.AsSpan(i * shape.HeadDim, shape.HeadDim);
            if (i == row)
            {
                Assert.True(float.IsNaN(lse[i]), $"LSE of the NaN query is {lse[i]}");
                foreach (float x in outRow)
                    Assert.True(float.IsNaN(x), $"output of the NaN query has {x}");
            }
            else
            {
                Assert.True(float.IsFinite(lse[i]), $"LSE of query {i} is {lse[i]}");
                foreach (float x in outRow)
                    Assert.True(float.IsFinite(x), $"output of query {i} has {x}");
            }
        }
    }
}
