using ILGPU;
using ILGPU.Runtime;
using Xunit;

namespace FlashAttention.Cuda.Tests;

/// <summary>Forward results on the GPU against the float64 reference; skipped without a CUDA device.</summary>
public class DeviceTests
{
    [CudaFact]
    public void ForwardMatchesReferenceFp16() => Compare<Half>(new AttentionShape(2, 127, 300, 4, 2, 64), causal: true, tolerance: 2e-3);

    [CudaFact]
    public void ForwardMatchesReferenceBf16() => Compare<BFloat16>(new AttentionShape(1, 257, 129, 2, 2, 128), causal: false, tolerance: 1.6e-2);

    [CudaFact]
    public void ForwardCausalRowsThatSeeNothingGetZeroAndInfiniteLse() =>
        Compare<Half>(new AttentionShape(1, 200, 50, 2, 2, 128), causal: true, tolerance: 2e-3);

    [CudaFact]
    public void WrongLengthIsAnArgumentError()
    {
        using var cuda = new CudaAttention();
        var shape = new AttentionShape(1, 8, 8, 1, 64);
        using var small = cuda.Accelerator.Allocate1D<Half>(shape.QueryLength - 1);
        using var good = cuda.Accelerator.Allocate1D<Half>(shape.QueryLength);
        using var lse = cuda.Accelerator.Allocate1D<float>(shape.LseLength);
        var e = Assert.Throws<ArgumentException>(() => cuda.Forward(shape, small.View, good.View, good.View, good.View, lse.View));
        Assert.Equal("q", e.ParamName);
    }

    private static void Compare<T>(AttentionShape shape, bool causal, double tolerance) where T : unmanaged
    {
        var options = new AttentionOptions { Causal = causal };
        var random = new Random(Environment.TickCount);
        T[] Make(long n) => Convert<T>(Enumerable.Range(0, (int)n).Select(_ => (float)(random.NextDouble() * 3.4 - 1.7)).ToArray());
        var q = Make(shape.QueryLength);
        var k = Make(shape.KeyValueLength);
        var v = Make(shape.KeyValueLength);
        var reference = ReferenceAttention.Forward<T>(shape, q, k, v, options);

        using var cuda = new CudaAttention();
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

        double num = 0, den = 0;
        for (int i = 0; i < output.Length; i++)
        {
            double a = ToDouble(output[i]), e = reference.Output[i];
            Assert.False(double.IsNaN(a), $"output[{i}] was not written");
            num += (a - e) * (a - e);
            den += e * e;
        }
        Assert.True(Math.Sqrt(num / Math.Max(den, 1e-300)) <= tolerance, $"relative error {Math.Sqrt(num / den):E2} > {tolerance:E1}");
        for (int i = 0; i < lse.Length; i++)
        {
            if (double.IsPositiveInfinity(reference.Lse[i]))
                Assert.Equal(float.PositiveInfinity, lse[i]);
            else
                Assert.InRange(lse[i], reference.Lse[i] - 2e-3, reference.Lse[i] + 2e-3);
        }
    }

    private static T[] Convert<T>(float[] values) where T : unmanaged =>
        typeof(T) == typeof(Half)
            ? (T[])(object)values.Select(x => (Half)x).ToArray()
            : (T[])(object)values.Select(x => (BFloat16)x).ToArray();

    private static double ToDouble<T>(T value) where T : unmanaged => value switch
    {
        Half h => (double)h,
        BFloat16 b => (float)b,
        _ => throw new NotSupportedException(),
    };
}
