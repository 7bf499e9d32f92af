using ILGPU;
using ILGPU.Runtime;
using Xunit;

namespace FlashAttention.Cuda.Tests;

/// <summary>
/// The backend the kernel tests run on: the host emulation (ILGPU's CPU accelerator running the same kernels), or, with
/// the environment variable <c>FLASHATTN_TEST_BACKEND=cuda</c>, the CUDA device, so the same checks run on the GPU
/// (<c>FlashAttention.Cuda.Probe tests</c> does that on the GPU machine).
/// </summary>
internal static class Backends
{
    /// <summary>The environment variable that moves the kernel tests to the CUDA device.</summary>
    public const string Variable = "FLASHATTN_TEST_BACKEND";

    private static readonly Lazy<CudaAttention> SharedBackend = new(() =>
        string.Equals(Environment.GetEnvironmentVariable(Variable), "cuda", StringComparison.OrdinalIgnoreCase)
            ? new CudaAttention()
            : CudaAttention.CreateHostEmulation());

    /// <summary>One instance for the whole test run (its kernels are loaded once).</summary>
    public static CudaAttention Shared => SharedBackend.Value;
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
    public static void Forward<T>(CudaAttention cuda, AttentionShape shape, AttentionOptions options, double tolerance, int seed,
        Kernels.ForwardVariant? variant = null)
        where T : unmanaged
    {
        var random = new Random(seed);
        var q = RandomInputs<T>(shape.QueryLength, random);
        var k = RandomInputs<T>(shape.KeyValueLength, random);
        var v = RandomInputs<T>(shape.KeyValueLength, random);
        var reference = ReferenceAttention.Forward<T>(shape, q, k, v, options);
        var (output, lse) = RunForward(cuda, shape, q, k, v, options, variant);

        double error = RelativeError(output, reference.Output, "output");
        Assert.True(error <= tolerance, $"output relative error {error:E2} > {tolerance:E1}");
        AssertLse(lse, reference.Lse);
    }

    /// <summary>Every LSE within 2e-3 of the reference, and +∞ exactly where the row sees no key.</summary>
    public static void AssertLse(float[] lse, double[] expected)
    {
        for (int i = 0; i < lse.Length; i++)
        {
            if (double.IsPositiveInfinity(expected[i]))
                Assert.Equal(float.PositiveInfinity, lse[i]);
            else
                Assert.InRange(lse[i], expected[i] - 2e-3, expected[i] + 2e-3);
        }
    }

    /// <summary>
    /// Uploads q, k, v, runs the forward on <paramref name="cuda"/> (the default kernel, or <paramref name="variant"/>) into
    /// outputs pre-filled with 0xFF bytes (so rows the kernel never writes show), and returns O and LSE.
    /// </summary>
    public static (T[] Output, float[] Lse) RunForward<T>(CudaAttention cuda, AttentionShape shape, T[] q, T[] k, T[] v,
        AttentionOptions options, Kernels.ForwardVariant? variant = null)
        where T : unmanaged
    {
        var acc = cuda.Accelerator;
        using var dq = acc.Allocate1D(q);
        using var dk = acc.Allocate1D(k);
        using var dv = acc.Allocate1D(v);
        using var dout = acc.Allocate1D<T>(shape.QueryLength);
        using var dlse = acc.Allocate1D<float>(shape.LseLength);
        dout.View.MemSet(0xFF);
        dlse.View.MemSet(0xFF);
        if (variant is null)
            cuda.Forward(shape, dq.View, dk.View, dv.View, dout.View, dlse.View, options);
        else
            cuda.Forward(variant, shape, options, dq.View, dk.View, dv.View, dout.View, dlse.View);
        cuda.Synchronize();
        return (dout.GetAsArray1D(), dlse.GetAsArray1D());
    }

    /// <summary>
    /// Forward then backward on <paramref name="cuda"/> (the backward fed the GPU's own output and LSE, as a training step
    /// would), gradients against the float64 reference: each of dq, dk, dv within <paramref name="tolerance"/>.
    /// </summary>
    /// <returns>The relative errors of dq, dk and dv.</returns>
    public static (double Dq, double Dk, double Dv) Backward<T>(CudaAttention cuda, AttentionShape shape, AttentionOptions options, double tolerance, int seed,
        Kernels.BackwardVariant? kv = null, Kernels.BackwardVariant? dqKernel = null)
        where T : unmanaged
    {
        var run = BackwardGradients<T>(cuda, shape, options, seed, kv, dqKernel);
        var errors = (RelativeError(run.Dq, run.Reference.DQ, "dq"), RelativeError(run.Dk, run.Reference.DK, "dk"),
            RelativeError(run.Dv, run.Reference.DV, "dv"));
        Assert.True(errors.Item1 <= tolerance && errors.Item2 <= tolerance && errors.Item3 <= tolerance,
            $"relative errors dq {errors.Item1:E2}, dk {errors.Item2:E2}, dv {errors.Item3:E2} (tolerance {tolerance:E1})");
        return errors;
    }

    /// <summary>
    /// Forward then backward on <paramref name="cuda"/> on fresh inputs from <paramref name="seed"/> (the same seed gives
    /// the same inputs), with the default kernels or the given ones; the gradients and the float64 reference.
    /// </summary>
    public static (T[] Dq, T[] Dk, T[] Dv, ReferenceGradients Reference) BackwardGradients<T>(CudaAttention cuda, AttentionShape shape, AttentionOptions options,
        int seed, Kernels.BackwardVariant? kv = null, Kernels.BackwardVariant? dqKernel = null)
        where T : unmanaged
    {
        var random = new Random(seed);
        var q = RandomInputs<T>(shape.QueryLength, random);
        var k = RandomInputs<T>(shape.KeyValueLength, random);
        var v = RandomInputs<T>(shape.KeyValueLength, random);
        var dO = RandomInputs<T>(shape.QueryLength, random);
        var reference = ReferenceAttention.Backward<T>(shape, q, k, v, dO, options);

        var acc = cuda.Accelerator;
        using var bq = acc.Allocate1D(q);
        using var bk = acc.Allocate1D(k);
        using var bv = acc.Allocate1D(v);
        using var bdo = acc.Allocate1D(dO);
        using var bout = acc.Allocate1D<T>(shape.QueryLength);
        using var blse = acc.Allocate1D<float>(shape.LseLength);
        using var bdq = acc.Allocate1D<T>(shape.QueryLength);
        using var bdk = acc.Allocate1D<T>(shape.KeyValueLength);
        using var bdv = acc.Allocate1D<T>(shape.KeyValueLength);
        bdq.View.MemSet(0xFF);
        bdk.View.MemSet(0xFF);
        bdv.View.MemSet(0xFF);
        cuda.Forward(shape, bq.View, bk.View, bv.View, bout.View, blse.View, options);
        if (kv is null)
            cuda.Backward(shape, bq.View, bk.View, bv.View, bout.View, blse.View, bdo.View, bdq.View, bdk.View, bdv.View, options);
        else
            cuda.Backward(kv, dqKernel, shape, options, bq.View, bk.View, bv.View, bout.View, blse.View, bdo.View, bdq.View, bdk.View, bdv.View);
        cuda.Synchronize();
        return (bdq.GetAsArray1D(), bdk.GetAsArray1D(), bdv.GetAsArray1D(), reference);
    }
}
