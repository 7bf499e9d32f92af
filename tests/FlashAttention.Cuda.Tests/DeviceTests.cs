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
    public void AlibiPerHeadMatchesReference() =>
        Compare<Half>(new AttentionShape(2, 150, 260, 4, 2, 64), new AttentionOptions { Causal = true, AlibiSlopes = new float[] { 0.5f, 0.25f, 0.125f, 0.0625f } }, 2e-3);

    [CudaFact]
    public void AlibiPerBatchWithSoftcapMatchesReference() =>
        Compare<BFloat16>(new AttentionShape(2, 200, 130, 2, 2, 128),
            new AttentionOptions { Softcap = 20f, AlibiSlopes = new float[] { 0.3f, 0.1f, 0.05f, 0.02f } }, 1.6e-2);

    [CudaFact]
    public void DropoutMatchesReference() =>
        Compare<Half>(new AttentionShape(2, 190, 333, 2, 1, 128), new AttentionOptions { Causal = true, DropoutP = 0.2f, Seed = 7, Offset = 1UL << 33 }, 2e-3);

    [CudaFact]
    public void DropoutWithAlibiMatchesReference() =>
        Compare<BFloat16>(new AttentionShape(1, 300, 300, 2, 2, 64),
            new AttentionOptions { DropoutP = 0.5f, Seed = 0xABCDEF_01234567UL, AlibiSlopes = new float[] { 0.2f, 0.1f } }, 1.6e-2);

    /// <summary>
    /// With a window of one key (the diagonal) each row's probability is exactly 1 on that key, so the output is
    /// 1/(1 − p) where the mask keeps it and 0 where it drops it: the GPU's mask, read back bit for bit.
    /// </summary>
    [CudaFact]
    public void DropoutMaskIsTheCpuMaskBitForBit()
    {
        var shape = new AttentionShape(2, 1000, 1000, 3, 3, 64);
        var options = new AttentionOptions { WindowLeft = 0, WindowRight = 0, DropoutP = 0.4f, Seed = 0x1234_5678_9ABC_DEF0UL, Offset = 77 };
        var q = new Half[shape.QueryLength];
        var k = new Half[shape.KeyValueLength];
        var v = Enumerable.Repeat((Half)1f, (int)shape.KeyValueLength).ToArray();
        using var cuda = new CudaAttention();
        var acc = cuda.Accelerator;
        using var dq = acc.Allocate1D(q);
        using var dk = acc.Allocate1D(k);
        using var dv = acc.Allocate1D(v);
        using var dout = acc.Allocate1D<Half>(shape.QueryLength);
        using var dlse = acc.Allocate1D<float>(shape.LseLength);
        cuda.Forward(shape, dq.View, dk.View, dv.View, dout.View, dlse.View, options);
        var output = dout.GetAsArray1D();
        var mask = new DropoutMask(0.4f, options.Seed, options.Offset, shape.Heads);
        int mismatches = 0;
        for (int b = 0; b < shape.Batch; b++)
            for (int i = 0; i < shape.SeqLenQ; i++)
                for (int h = 0; h < shape.Heads; h++)
                {
                    bool kept = output[((b * shape.SeqLenQ + i) * shape.Heads + h) * shape.HeadDim] != (Half)0f;
                    if (kept != mask.IsKept(b, h, i, i))
                        mismatches++;
                }
        Assert.Equal(0, mismatches);
    }

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

    private static void Compare<T>(AttentionShape shape, bool causal, double tolerance) where T : unmanaged =>
        Compare<T>(shape, new AttentionOptions { Causal = causal }, tolerance);

    private static void Compare<T>(AttentionShape shape, AttentionOptions options, double tolerance) where T : unmanaged
    {
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
