using ILGPU;
using ILGPU.Runtime;
using Xunit;

namespace FlashAttention.Cuda.Tests;

/// <summary>The backends a GPU check can run on: the host emulation always, a CUDA device when there is one.</summary>
internal static class Backends
{
    private static readonly Lazy<CudaAttention> SharedEmulation = new(CudaAttention.CreateHostEmulation);

    /// <summary>One emulated instance for the whole test run (its kernels are loaded once).</summary>
    public static CudaAttention Emulation => SharedEmulation.Value;
}

/// <summary>Runs the GPU kernels on random inputs and compares them with the float64 reference.</summary>
internal static class GpuChecks
{
    public static T[] Convert<T>(float[] values) where T : unmanaged =>
        typeof(T) == typeof(Half) ? (T[])(object)values.Select(x => (Half)x).ToArray()
        : typeof(T) == typeof(BFloat16) ? (T[])(object)values.Select(x => (BFloat16)x).ToArray()
        : typeof(T) == typeof(float) ? (T[])(object)values.ToArray()
        : throw new NotSupportedException(typeof(T).Name);

    public static double ToDouble<T>(T value) where T : unmanaged => value switch
    {
        Half h => (double)h,
        BFloat16 b => (float)b,
        float f => f,
        _ => throw new NotSupportedException(),
    };

    public static T[] RandomInputs<T>(long n, Random random) where T : unmanaged =>
        Convert<T>(Enumerable.Range(0, (int)n).Select(_ => (float)(random.NextDouble() * 3.4 - 1.7)).ToArray());

    /// <summary>Relative L2 error; NaN in <paramref name="actual"/> fails the test (unwritten outputs are poisoned with NaN).</summary>
    public static double RelativeError<T>(T[] actual, double[] expected, string what) where T : unmanaged
    {
        double num = 0, den = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double a = ToDouble(actual[i]), e = expected[i];
            Assert.False(double.IsNaN(a), $"{what}[{i}] is NaN (not written?)");
            num += (a - e) * (a - e);
            den += e * e;
        }
        return den == 0 ? Math.Sqrt(num) : Math.Sqrt(num / den);
    }

    /// <summary>Forward on <paramref name="cuda"/> against the reference: output error ≤ tolerance, LSE within 2e-3, +∞ rows exact.</summary>
    public static void Forward<T>(CudaAttention cuda, AttentionShape shape, AttentionOptions options, double tolerance, int seed)
        where T : unmanaged
    {
        var random = new Random(seed);
        var q = RandomInputs<T>(shape.QueryLength, random);
        var k = RandomInputs<T>(shape.KeyValueLength, random);
        var v = RandomInputs<T>(shape.KeyValueLength, random);
        var reference = ReferenceAttention.Forward<T>(shape, q, k, v, options);

        var acc = cuda.Accelerator;
        using var dq = acc.Allocate1D(q);
        using var dk = acc.Allocate1D(k);
        using var dv = acc.Allocate1D(v);
        using var dout = acc.Allocate1D<T>(shape.QueryLength);
        using var dlse = acc.Allocate1D<float>(shape.LseLength);
        dout.View.MemSet(0xFF);
        dlse.View.MemSet(0xFF);
        cuda.Forward(shape, dq.View, dk.View, dv.View, dout.View, dlse.View, options);
        cuda.Synchronize();
        var output = dout.GetAsArray1D();
        var lse = dlse.GetAsArray1D();

        double error = RelativeError(output, reference.Output, "output");
        Assert.True(error <= tolerance, $"output relative error {error:E2} > {tolerance:E1}");
        for (int i = 0; i < lse.Length; i++)
        {
            if (double.IsPositiveInfinity(reference.Lse[i]))
                Assert.Equal(float.PositiveInfinity, lse[i]);
            else
                Assert.InRange(lse[i], reference.Lse[i] - 2e-3, reference.Lse[i] + 2e-3);
        }
    }
}
