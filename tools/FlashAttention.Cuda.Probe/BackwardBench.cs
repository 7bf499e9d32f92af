using System.Text.Json.Nodes;
using FlashAttention.Cuda.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace FlashAttention.Cuda.Probe;

/// <summary>
/// Backward TFLOP/s on FlashAttention's grid (bf16, 16k tokens, model dim 2048, D 64 and 128, causal and not), for every
/// dK/dV kernel (fused dQ) and the deterministic pairs: the whole backward call (preprocessing, dK/dV, dQ conversion or
/// dQ kernel), median of per-call CUDA event intervals. FLOPs = 2.5 × the forward's 4·B·H·N²·D (halved when causal).
/// </summary>
internal static class BackwardBench
{
    private const int Tokens = 16384, ModelDim = 2048;

    public static JsonArray Run(CudaAttention cuda, int[] lengths, bool allVariants)
    {
        var rows = new JsonArray();
        var acc = cuda.Accelerator;
        long elements = (long)Tokens * ModelDim;
        using var q = DeviceData.Upload(acc, DeviceData.Convert<BFloat16>(DeviceData.NormalParallel(elements, 21)));
        using var k = DeviceData.Upload(acc, DeviceData.Convert<BFloat16>(DeviceData.NormalParallel(elements, 22)));
        using var v = DeviceData.Upload(acc, DeviceData.Convert<BFloat16>(DeviceData.NormalParallel(elements, 23)));
        using var dO = DeviceData.Upload(acc, DeviceData.Convert<BFloat16>(DeviceData.NormalParallel(elements, 24)));
        using var o = acc.Allocate1D<BFloat16>(elements);
        using var lse = acc.Allocate1D<float>(Tokens * (ModelDim / 64));
        using var dq = acc.Allocate1D<BFloat16>(elements);
        using var dk = acc.Allocate1D<BFloat16>(elements);
        using var dv = acc.Allocate1D<BFloat16>(elements);
        Console.WriteLine("backward bench: bf16, 16k tokens, model dim 2048, whole backward call, median of CUDA event intervals");
        Console.WriteLine($"{"D",4} {"causal",6} {"N",6} {"kernels",-48} {"ms",9} {"TFLOP/s",8}");
        foreach (int d in new[] { 64, 128 })
            foreach (bool causal in new[] { false, true })
                foreach (int n in lengths)
                {
                    int b = Tokens / n, h = ModelDim / d;
                    var shape = new AttentionShape(b, n, n, h, d);
                    double flops = 2.5 * 4.0 * b * h * n * (double)n * d / (causal ? 2 : 1);
                    foreach (var (kv, dqKernel) in Pairs(d, allVariants))
                    {
                        string name = kv.Name + (dqKernel is null ? "" : "+" + dqKernel.Name);
                        var options = new AttentionOptions { Causal = causal };
                        var row = new JsonObject { ["dtype"] = "bf16", ["d"] = d, ["causal"] = causal, ["n"] = n, ["b"] = b, ["h"] = h, ["kernels"] = name, ["deterministic"] = dqKernel is not null };
                        try
                        {
                            cuda.Forward(shape, q.View, k.View, v.View, o.View, lse.View.SubView(0, shape.LseLength), options);
                            double ms = Bench.Median(cuda, () => cuda.Backward(kv, dqKernel, shape, options, q.View, k.View, v.View, o.View,
                                lse.View.SubView(0, shape.LseLength), dO.View, dq.View, dk.View, dv.View));
                            double tflops = flops / (ms * 1e-3) / 1e12;
                            row["ms"] = Math.Round(ms, 4);
                            row["tflops"] = Math.Round(tflops, 1);
                            Console.WriteLine($"{d,4} {causal,6} {n,6} {name,-48} {ms,9:F3} {tflops,8:F1}");
                        }
                        catch (Exception e)
                        {
                            row["error"] = e.Message;
                            Console.WriteLine($"{d,4} {causal,6} {n,6} {name,-48} ERROR {e.Message}");
                        }
                        rows.Add(row);
                    }
                }
        return rows;
    }

    private static IEnumerable<(BackwardVariant Kv, BackwardVariant? Dq)> Pairs(int d, bool allVariants)
    {
        var split = CudaAttention.DefaultBackward(d, atomicDq: false);
        var fused = CudaAttention.DefaultBackward(d, atomicDq: true).Kv[0];
        yield return (split.Kv[0], split.Dq);
        if (fused.FusedDq)
            yield return (fused, null);
        if (!allVariants)
            yield break;
        foreach (var kv in BackwardKernels.KvVariants.Where(x => x.HeadDim == d && x.Outputs == KvOutputs.Both && x != fused && x != split.Kv[0]))
            yield return (kv, kv.FusedDq ? null : split.Dq);
        foreach (var other in BackwardKernels.DqVariants.Where(x => x.HeadDim == d && x != split.Dq))
            yield return (split.Kv[0], other);
    }
}
