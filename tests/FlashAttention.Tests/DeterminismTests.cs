using Xunit;

namespace FlashAttention.Tests;

/// <summary>
/// Reproducibility: the same inputs and the same degree of parallelism give bit-identical outputs and gradients
/// (the backward sums its per-chunk dq accumulators in a fixed order, no atomics); different degrees of parallelism
/// agree within float32 rounding.
/// </summary>
public class DeterminismTests
{
    public static TheoryData<string> Cases() => new(["plain", "gqa causal dropout", "mqa window softcap", "cosine keymask", "varlen"]);

    private static (AttentionShape Shape, AttentionOptions Options) Case(string name) => name switch
    {
        // B·Hkv = 1 < 2·threads: the backward splits each head's key blocks over several chunks with separate dq accumulators.
        "plain" => (new AttentionShape(1, 300, 260, 1, 1, 32), new AttentionOptions()),
        "gqa causal dropout" => (new AttentionShape(2, 130, 150, 4, 2, 32), new AttentionOptions { Causal = true, DropoutP = 0.2f, Seed = 5 }),
        "mqa window softcap" => (new AttentionShape(1, 257, 129, 3, 1, 24), new AttentionOptions { WindowLeft = 30, WindowRight = 10, Softcap = 3f }),
        "cosine keymask" => (new AttentionShape(3, 100, 140, 2, 2, 16),
            new AttentionOptions { Variant = AttentionVariant.Cosine, KeyPaddingMask = TestData.RandomMask(3, 140, 1) }),
        _ => (new AttentionShape(1, 1, 1, 1, 1, 1), new AttentionOptions()),
    };

    private static AttentionRun RunCase(string name, int threads, int seed = 9)
    {
        if (name == "varlen")
            return RunVarlen(threads);
        var (s, options) = Case(name);
        return Check.Run(new DenseInputs<float>(s, seed), options with { MaxDegreeOfParallelism = threads }, softmax: true);
    }

    private static AttentionRun RunVarlen(int threads)
    {
        var l = VarlenTests.Layouts["ragged"];
        var (q, k, v, dO) = VarlenTests.Inputs(l, 3);
        var options = new AttentionOptions { Causal = true, DropoutP = 0.1f, MaxDegreeOfParallelism = threads };
        var layout = l.Layout;
        var o = new float[q.Length];
        var lse = new float[layout.LseLength];
        var p = new float[layout.SoftmaxLength];
        Attention.ForwardVarlen<float>(layout, q, k, v, o, lse, options, p);
        var dq = new float[q.Length];
        var dk = new float[k.Length];
        var dv = new float[k.Length];
        Attention.BackwardVarlen<float>(layout, q, k, v, o, lse, dO, dq, dk, dv, options);
        return new AttentionRun(o, lse, dq, dk, dv, p);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void SameInputsSameThreads_BitIdentical(string name)
    {
        foreach (int threads in new[] { -1, 1, 3 })
        {
            var a = RunCase(name, threads);
            var b = RunCase(name, threads);
            string at = $"{name}, MaxDegreeOfParallelism={threads}";
            TestData.AssertBitIdentical(a.Output, b.Output, at + " output");
            TestData.AssertBitIdentical(a.Lse, b.Lse, at + " lse");
            TestData.AssertBitIdentical(a.Softmax, b.Softmax, at + " softmax");
            TestData.AssertBitIdentical(a.DQ, b.DQ, at + " dq");
            TestData.AssertBitIdentical(a.DK, b.DK, at + " dk");
            TestData.AssertBitIdentical(a.DV, b.DV, at + " dv");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void DifferentThreadCounts_AgreeWithinFloat32(string name)
    {
        var one = RunCase(name, 1);
        foreach (int threads in new[] { 2, 5, -1 })
        {
            var other = RunCase(name, threads);
            string at = $"{name}, 1 vs {threads} threads";
            TestData.AssertClose(other.Output, one.Output, 1e-6, at + " output");
            TestData.AssertClose(other.Lse, one.Lse, 1e-6, at + " lse");
            // The forward's query-block size depends on the thread count, so this also checks that the returned softmax of
            // tiles the mask classifies Empty does not depend on the tiling.
            TestData.AssertClose(other.Softmax, one.Softmax, 1e-6, at + " softmax");
            TestData.AssertClose(other.DQ, one.DQ, 2e-6, at + " dq");
            TestData.AssertClose(other.DK, one.DK, 2e-6, at + " dk");
            TestData.AssertClose(other.DV, one.DV, 2e-6, at + " dv");
        }
    }

    /// <summary>Different inputs give different results (the comparisons above are not comparing constants).</summary>
    [Fact]
    public void DifferentInputs_DifferentResults()
    {
        var a = RunCase("plain", -1, seed: 9);
        var b = RunCase("plain", -1, seed: 10);
        Assert.True(TestData.RelativeError(a.Output, b.Output) > 0.1);
        Assert.True(TestData.RelativeError(a.DQ, b.DQ) > 0.1);
    }
}
