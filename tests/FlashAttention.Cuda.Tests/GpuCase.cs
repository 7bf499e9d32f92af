using ILGPU;
using ILGPU.Runtime;
using Xunit;

namespace FlashAttention.Cuda.Tests;

/// <summary>One GPU check: a dense shape or a packed layout, options, and how the inputs are drawn.</summary>
/// <param name="Name">For messages.</param>
/// <param name="Shape">The dense shape, or null for a packed layout.</param>
/// <param name="Layout">The packed layout, or null for a dense shape.</param>
/// <param name="Options">The options of both passes.</param>
/// <param name="PreNormalizeGroups">Cosine with L2NormalizeQK off: draw q and k already normalised per this many groups.</param>
public sealed record GpuCase(string Name, AttentionShape? Shape, VarlenLayout? Layout, AttentionOptions Options, int PreNormalizeGroups = 0)
{
    public int HeadDim => Shape?.HeadDim ?? Layout!.HeadDim;
    public long QueryLength => Shape?.QueryLength ?? Layout!.QueryLength;
    public long KeyValueLength => Shape?.KeyValueLength ?? Layout!.KeyValueLength;
    public long LseLength => Shape?.LseLength ?? Layout!.LseLength;
    public long SoftmaxLength => Shape?.SoftmaxLength ?? Layout!.SoftmaxLength;

    public override string ToString() => Name;
}

/// <summary>The errors one run measured (relative; LSE absolute over finite rows).</summary>
public sealed record GpuErrors(double Output, double Lse, double Softmax, double Dq, double Dk, double Dv)
{
    public override string ToString() => $"out {Output:E2} lse {Lse:E2} P {Softmax:E2} dq {Dq:E2} dk {Dk:E2} dv {Dv:E2}";
}

/// <summary>
/// Runs a <see cref="GpuCase"/> forward (and backward, and the returned softmax) on a <see cref="CudaAttention"/> —
/// the host emulation in CI, a GPU where there is one — and compares every tensor with the float64 reference computed
/// from the same rounded inputs. Outputs are poisoned with NaN first, so an unwritten element fails.
/// </summary>
internal static class GpuRun
{
    public static GpuErrors Check<T>(CudaAttention cuda, GpuCase c, double tolerance, int seed, bool backward = true, bool softmax = false)
        where T : unmanaged =>
        Check<T, NoCudaScoreMod, NoCudaMaskMod, NoScoreMod, NoMask>(cuda, c, tolerance, seed, default, default, default, default, backward, softmax);

    public static GpuErrors Check<T, TGpuScore, TGpuMask, TCpuScore, TCpuMask>(CudaAttention cuda, GpuCase c, double tolerance, int seed,
        TGpuScore gpuScore, TGpuMask gpuMask, TCpuScore cpuScore, TCpuMask cpuMask, bool backward = true, bool softmax = false)
        where T : unmanaged
        where TGpuScore : unmanaged, ICudaScoreMod
        where TGpuMask : unmanaged, ICudaMaskMod
        where TCpuScore : struct, IScoreMod
        where TCpuMask : struct, IMaskMod
    {
        var random = new Random(seed);
        float[] Draw(long n) => Enumerable.Range(0, (int)n).Select(_ => (float)(random.NextDouble() * 3.4 - 1.7)).ToArray();
        float[] qf = Draw(c.QueryLength), kf = Draw(c.KeyValueLength), vf = Draw(c.KeyValueLength), dof = Draw(c.QueryLength);
        if (c.PreNormalizeGroups > 0)
        {
            Normalize(qf, c.HeadDim / c.PreNormalizeGroups);
            Normalize(kf, c.HeadDim / c.PreNormalizeGroups);
        }
        T[] q = GpuChecks.Convert<T>(qf), k = GpuChecks.Convert<T>(kf), v = GpuChecks.Convert<T>(vf), dO = GpuChecks.Convert<T>(dof);

        ReferenceForward rf;
        ReferenceGradients? rg = null;
        if (c.Layout is { } layout)
        {
            if (typeof(TCpuScore) != typeof(NoScoreMod) || typeof(TCpuMask) != typeof(NoMask))
                throw new NotSupportedException("The reference has no packed form with modifiers.");
            rf = ReferenceAttention.ForwardVarlen<T>(layout, q, k, v, c.Options);
            if (backward)
                rg = ReferenceAttention.BackwardVarlen<T>(layout, q, k, v, dO, c.Options);
        }
        else
        {
            rf = ReferenceAttention.Forward<T, TCpuScore, TCpuMask>(c.Shape!.Value, q, k, v, cpuScore, cpuMask, c.Options);
            if (backward)
                rg = ReferenceAttention.Backward<T, TCpuScore, TCpuMask>(c.Shape!.Value, q, k, v, dO, cpuScore, cpuMask, c.Options);
        }

        var acc = cuda.Accelerator;
        using var bq = acc.Allocate1D(q);
        using var bk = acc.Allocate1D(k);
        using var bv = acc.Allocate1D(v);
        using var bdo = acc.Allocate1D(dO);
        using var bout = acc.Allocate1D<T>(c.QueryLength);
        using var blse = acc.Allocate1D<float>(Math.Max(1, c.LseLength));
        using var bp = acc.Allocate1D<float>(Math.Max(1, softmax ? c.SoftmaxLength : 1));
        using var bdq = acc.Allocate1D<T>(c.QueryLength);
        using var bdk = acc.Allocate1D<T>(c.KeyValueLength);
        using var bdv = acc.Allocate1D<T>(c.KeyValueLength);
        bout.View.MemSet(0xFF);
        blse.View.MemSet(0xFF);
        bp.View.MemSet(0xFF);
        bdq.View.MemSet(0xFF);
        bdk.View.MemSet(0xFF);
        bdv.View.MemSet(0xFF);
        var lseView = blse.View.SubView(0, c.LseLength);
        var pView = softmax ? bp.View.SubView(0, c.SoftmaxLength) : default;
        if (c.Layout is { } packed)
        {
            cuda.ForwardVarlen(packed, bq.View, bk.View, bv.View, bout.View, lseView, gpuScore, gpuMask, c.Options, pView);
            if (backward)
                cuda.BackwardVarlen(packed, bq.View, bk.View, bv.View, bout.View, lseView, bdo.View, bdq.View, bdk.View, bdv.View, gpuScore, gpuMask, c.Options);
        }
        else
        {
            cuda.Forward(c.Shape!.Value, bq.View, bk.View, bv.View, bout.View, lseView, gpuScore, gpuMask, c.Options, pView);
            if (backward)
                cuda.Backward(c.Shape!.Value, bq.View, bk.View, bv.View, bout.View, lseView, bdo.View, bdq.View, bdk.View, bdv.View, gpuScore, gpuMask, c.Options);
        }
        cuda.Synchronize();

        double eo = GpuChecks.RelativeError(bout.GetAsArray1D(), rf.Output, "output");
        double el = LseError(lseView.GetAsArray1D(), rf.Lse);
        double ep = softmax ? SoftmaxError(pView.GetAsArray1D(), rf.Probabilities) : 0;
        double eq = 0, ek = 0, ev = 0;
        if (rg is not null)
        {
            eq = GpuChecks.RelativeError(bdq.GetAsArray1D(), rg.DQ, "dq");
            ek = GpuChecks.RelativeError(bdk.GetAsArray1D(), rg.DK, "dk");
            ev = GpuChecks.RelativeError(bdv.GetAsArray1D(), rg.DV, "dv");
        }
        var errors = new GpuErrors(eo, el, ep, eq, ek, ev);
        // P comes from the very inputs the reference sees (so float32-accurate), unless the GPU rounds them itself:
        // float32 storage (to fp16) and cosine attention's normalised q and k (to the element type).
        bool rounded = typeof(T) == typeof(float) || (c.Options.Variant == AttentionVariant.Cosine && c.Options.L2NormalizeQK);
        double softmaxTolerance = rounded ? tolerance : 1e-4;
        // Cosine attention's q̂ and k̂ are rounded to the element type (unit roundoff u) after the normalisation, so a score
        // of bound B = scale·groups carries an error up to about 2u·B, and so does the LSE.
        double unit = typeof(T) == typeof(BFloat16) ? 1.0 / 256 : 1.0 / 2048;
        double lseTolerance = c.Options.Variant == AttentionVariant.Cosine && c.Options.L2NormalizeQK
            ? Math.Max(2e-3, 2 * unit * c.Options.CosineScale * c.Options.CosineGroups)
            : 2e-3;
        Assert.True(eo <= tolerance && el <= lseTolerance && ep <= softmaxTolerance && eq <= tolerance && ek <= tolerance && ev <= tolerance,
            $"{c.Name}: {errors} (tolerance {tolerance:E1})");
        return errors;
    }

    private static double LseError(float[] actual, double[] expected)
    {
        double worst = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            if (double.IsPositiveInfinity(expected[i]))
            {
                Assert.True(float.IsPositiveInfinity(actual[i]), $"lse[{i}] = {actual[i]}: the row sees no key, +inf expected");
                continue;
            }
            Assert.False(float.IsNaN(actual[i]), $"lse[{i}] is NaN (not written?)");
            worst = Math.Max(worst, Math.Abs(actual[i] - expected[i]));
        }
        return worst;
    }

    /// <summary>|P| against |reference| (relative), and the sign bit (dropout) exactly wherever the reference is non-zero.</summary>
    private static double SoftmaxError(float[] actual, double[] expected)
    {
        double num = 0, den = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.False(float.IsNaN(actual[i]), $"P[{i}] is NaN (not written?)");
            if (expected[i] != 0)
                Assert.True(float.IsNegative(actual[i]) == double.IsNegative(expected[i]), $"P[{i}]: dropout sign {actual[i]} vs {expected[i]}");
            double diff = Math.Abs(actual[i]) - Math.Abs(expected[i]);
            num += diff * diff;
            den += expected[i] * expected[i];
        }
        return den == 0 ? Math.Sqrt(num) : Math.Sqrt(num / den);
    }

    private static void Normalize(float[] x, int group)
    {
        for (int start = 0; start < x.Length; start += group)
        {
            var part = x.AsSpan(start, group);
            float norm = System.Numerics.Tensors.TensorPrimitives.Norm(part);
            System.Numerics.Tensors.TensorPrimitives.Divide(part, norm, part);
        }
    }
}
