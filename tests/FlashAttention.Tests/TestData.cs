using Xunit;

namespace FlashAttention.Tests;

/// <summary>Fresh random inputs and error measures shared by the tests.</summary>
internal static class TestData
{
    /// <summary>Uniform values in (−1.7·scale, 1.7·scale): never zeros, large enough that softmax rows are not flat.</summary>
    public static float[] Random(long length, int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        var x = new float[length];
        for (long i = 0; i < length; i++)
            x[i] = (float)(rng.NextDouble() * 2 - 1) * scale * 1.7f;
        return x;
    }

    /// <summary>A seed derived from a test-case name that is the same in every process (string.GetHashCode is randomised).</summary>
    public static int StableSeed(string name)
    {
        uint h = 2166136261;
        foreach (char c in name)
            h = (h ^ c) * 16777619;
        return (int)(h & 0xFFFF);
    }

    /// <summary>Random values in [lo, hi).</summary>
    public static float[] Uniform(int length, int seed, float lo, float hi)
    {
        var rng = new Random(seed);
        var x = new float[length];
        for (int i = 0; i < length; i++)
            x[i] = lo + (float)rng.NextDouble() * (hi - lo);
        return x;
    }

    /// <summary>A key padding mask [batch, seqLenK] that keeps each key with probability <paramref name="keep"/>.</summary>
    public static bool[] RandomMask(int batch, int seqLenK, int seed, double keep = 0.7)
    {
        var rng = new Random(seed);
        var m = new bool[batch * seqLenK];
        for (int i = 0; i < m.Length; i++)
            m[i] = rng.NextDouble() < keep;
        return m;
    }

    public static T[] Convert<T>(float[] x) where T : unmanaged
    {
        var result = new T[x.Length];
        Cpu.Elements.FromFloat<T>(x, result);
        return result;
    }

    public static float[] ToFloat<T>(T[] x) where T : unmanaged
    {
        var result = new float[x.Length];
        Cpu.Elements.ToFloat<T>(x, result);
        return result;
    }

    public static double[] ToDouble(ReadOnlySpan<float> x)
    {
        var result = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
            result[i] = x[i];
        return result;
    }

    /// <summary>The error bound of the quality bar for a storage type (float: 1e-5; Half: 2e-3; BFloat16: 1.6e-2).</summary>
    public static double Tolerance<T>() =>
        typeof(T) == typeof(float) ? 1e-5 : typeof(T) == typeof(Half) ? 2e-3 : typeof(T) == typeof(BFloat16) ? 1.6e-2
        : throw new NotSupportedException(typeof(T).Name);

    /// <summary>
    /// ‖actual − expected‖ / ‖expected‖ over the finite entries; infinities must match exactly. The same measure
    /// <c>flashattn check</c> reports, so tests and the self-check judge by one rule.
    /// </summary>
    public static double RelativeError(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected) =>
        Cli.Commands.ErrorMeasure.Relative(actual, expected);

    /// <summary>Relative error between two float results (e.g. two kernel runs that should agree).</summary>
    public static double RelativeError(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected) =>
        RelativeError(actual, ToDouble(expected));

    public static void AssertClose(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected, double tolerance, string what)
    {
        double err = RelativeError(actual, expected);
        Assert.True(err <= tolerance, $"{what}: relative error {err:E3} > {tolerance:E1}");
    }

    public static void AssertClose(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected, double tolerance, string what) =>
        AssertClose(actual, ToDouble(expected), tolerance, what);

    /// <summary>Bitwise equality of two float arrays (so −0 ≠ +0 and NaN payloads count).</summary>
    public static void AssertBitIdentical(ReadOnlySpan<float> a, ReadOnlySpan<float> b, string what)
    {
        Assert.Equal(a.Length, b.Length);
        for (int i = 0; i < a.Length; i++)
            if (BitConverter.SingleToUInt32Bits(a[i]) != BitConverter.SingleToUInt32Bits(b[i]))
                Assert.Fail($"{what}: element {i} differs: {a[i]:R} vs {b[i]:R}");
    }
}

/// <summary>Everything one forward + backward call produced, widened to float.</summary>
internal sealed record AttentionRun(float[] Output, float[] Lse, float[] DQ, float[] DK, float[] DV, float[] Softmax);

/// <summary>Inputs of one dense call in a storage type, generated from fixed seeds.</summary>
internal sealed class DenseInputs<T> where T : unmanaged
{
    public AttentionShape Shape { get; }
    public T[] Q { get; }
    public T[] K { get; }
    public T[] V { get; }
    public T[] DO { get; }

    public DenseInputs(AttentionShape shape, int seed, float qkScale = 1f)
    {
        Shape = shape;
        Q = TestData.Convert<T>(TestData.Random(shape.QueryLength, seed * 7 + 1, qkScale));
        K = TestData.Convert<T>(TestData.Random(shape.KeyValueLength, seed * 7 + 2, qkScale));
        V = TestData.Convert<T>(TestData.Random(shape.KeyValueLength, seed * 7 + 3));
        DO = TestData.Convert<T>(TestData.Random(shape.QueryLength, seed * 7 + 4));
    }

    public DenseInputs(AttentionShape shape, T[] q, T[] k, T[] v, T[] dO)
    {
        Shape = shape;
        (Q, K, V, DO) = (q, k, v, dO);
    }
}

/// <summary>Runs the kernels and the double-precision reference on the same inputs and compares them.</summary>
internal static class Check
{
    /// <summary>Forward (optionally with the returned softmax) and then backward through the library.</summary>
    public static AttentionRun Run<T, TScore, TMask>(DenseInputs<T> x, TScore score, TMask mask, AttentionOptions? options,
        bool backward = true, bool softmax = false)
        where T : unmanaged where TScore : struct, IScoreMod where TMask : struct, IMaskMod
    {
        var shape = x.Shape;
        var o = new T[shape.QueryLength];
        var lse = new float[shape.LseLength];
        var p = softmax ? new float[shape.SoftmaxLength] : [];
        Attention.Forward<T, TScore, TMask>(shape, x.Q, x.K, x.V, o, lse, score, mask, options, p);
        var dq = new T[backward ? shape.QueryLength : 0];
        var dk = new T[backward ? shape.KeyValueLength : 0];
        var dv = new T[backward ? shape.KeyValueLength : 0];
        if (backward)
            Attention.Backward<T, TScore, TMask>(shape, x.Q, x.K, x.V, o, lse, x.DO, dq, dk, dv, score, mask, options);
        return new AttentionRun(TestData.ToFloat(o), lse, TestData.ToFloat(dq), TestData.ToFloat(dk), TestData.ToFloat(dv), p);
    }

    public static AttentionRun Run<T>(DenseInputs<T> x, AttentionOptions? options, bool backward = true, bool softmax = false)
        where T : unmanaged =>
        Run(x, default(NoScoreMod), default(NoMask), options, backward, softmax);

    /// <summary>
    /// Kernel vs reference for output, LSE and (optionally) dq, dk, dv, within <paramref name="tolerance"/>
    /// (default: the storage type's bound). Rows the reference calls fully masked (LSE +∞) must be exactly zero in the
    /// output and in dq; the relative error alone could hide a small leak there.
    /// </summary>
    public static AttentionRun AgainstReference<T, TScore, TMask>(DenseInputs<T> x, TScore score, TMask mask, AttentionOptions? options,
        string label, bool backward = true, double? tolerance = null, double? gradientTolerance = null)
        where T : unmanaged where TScore : struct, IScoreMod where TMask : struct, IMaskMod
    {
        double tol = tolerance ?? TestData.Tolerance<T>();
        double gradTol = gradientTolerance ?? tol;
        var run = Run(x, score, mask, options, backward);
        var reference = ReferenceAttention.Forward<T, TScore, TMask>(x.Shape, x.Q, x.K, x.V, score, mask, options);
        TestData.AssertClose(run.Output, reference.Output, tol, $"{label}: output");
        TestData.AssertClose(run.Lse, reference.Lse, tol, $"{label}: lse");
        AssertMaskedRowsZero(x.Shape, reference.Lse, run.Lse, run.Output, label + ": output");
        if (backward)
        {
            var g = ReferenceAttention.Backward<T, TScore, TMask>(x.Shape, x.Q, x.K, x.V, x.DO, score, mask, options);
            TestData.AssertClose(run.DQ, g.DQ, gradTol, $"{label}: dq");
            TestData.AssertClose(run.DK, g.DK, gradTol, $"{label}: dk");
            TestData.AssertClose(run.DV, g.DV, gradTol, $"{label}: dv");
            AssertMaskedRowsZero(x.Shape, reference.Lse, run.Lse, run.DQ, label + ": dq");
        }
        return run;
    }

    public static AttentionRun AgainstReference<T>(DenseInputs<T> x, AttentionOptions? options, string label,
        bool backward = true, double? tolerance = null, double? gradientTolerance = null)
        where T : unmanaged =>
        AgainstReference(x, default(NoScoreMod), default(NoMask), options, label, backward, tolerance, gradientTolerance);

    /// <summary>Rows with reference LSE +∞ must have LSE +∞ and exactly zero values in <paramref name="rows"/> (q layout).</summary>
    public static void AssertMaskedRowsZero(AttentionShape s, double[] referenceLse, float[] lse, float[] rows, string label)
    {
        for (int b = 0; b < s.Batch; b++)
            for (int h = 0; h < s.Heads; h++)
                for (int i = 0; i < s.SeqLenQ; i++)
                {
                    long at = ((long)b * s.Heads + h) * s.SeqLenQ + i;
                    if (!double.IsPositiveInfinity(referenceLse[at]))
                        continue;
                    Assert.True(float.IsPositiveInfinity(lse[at]), $"{label}: fully masked row (b={b}, h={h}, i={i}) has LSE {lse[at]}, expected +∞");
                    long o = (((long)b * s.SeqLenQ + i) * s.Heads + h) * s.HeadDim;
                    for (int c = 0; c < s.HeadDim; c++)
                        Assert.True(rows[o + c] == 0f, $"{label}: fully masked row (b={b}, h={h}, i={i}) has value {rows[o + c]} at {c}, expected 0");
                }
    }
}
