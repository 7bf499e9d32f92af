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

    /// <param name="cuda">The backend.</param>
    /// <param name="lengths">The sequence lengths of the grid.</param>
    /// <param name="allVariants">Every dK/dV and dQ kernel beside the defaults, or the defaults only.</param>
    /// <param name="named">With <paramref name="allVariants"/>: only the kernels with these names beside the defaults (null: all).</param>
    /// <param name="dropout">Dropout probability of every timed call (0: none).</param>
    public static JsonArray Run(CudaAttention cuda, int[] lengths, bool allVariants, IReadOnlySet<string>? named = null, float dropout = 0f)
    {
        var rows = new JsonArray();
        using var buffers = new BackwardBuffers(cuda.Accelerator, (long)Tokens * ModelDim, Tokens * (ModelDim / 64), 21);
        Console.WriteLine($"backward bench: bf16, 16k tokens, model dim 2048, dropout {dropout}, whole backward call, median of CUDA event intervals");
        Console.WriteLine($"{"D",4} {"causal",6} {"N",6} {"kernels",-48} {"ms",9} {"TFLOP/s",8}");
        foreach (int d in new[] { 64, 128 })
            foreach (bool causal in new[] { false, true })
                foreach (int n in lengths)
                {
                    int b = Tokens / n, h = ModelDim / d;
                    var shape = new AttentionShape(b, n, n, h, d);
                    double flops = 2.5 * 4.0 * b * h * n * (double)n * d / (causal ? 2 : 1);
                    foreach (var (kv, dqKernel) in Pairs(d, allVariants, named))
                    {
                        string name = kv.Name + (dqKernel is null ? "" : "+" + dqKernel.Name);
                        var options = new AttentionOptions { Causal = causal, DropoutP = dropout, Seed = 1 };
                        var row = new JsonObject { ["dtype"] = "bf16", ["d"] = d, ["causal"] = causal, ["n"] = n, ["b"] = b, ["h"] = h, ["kernels"] = name, ["deterministic"] = dqKernel is not null };
                        try
                        {
                            var x = buffers.Cut(shape);
                            cuda.Forward(shape, x.Q, x.K, x.V, x.O, x.Lse, options);
                            double ms = Bench.Median(cuda, () => cuda.Backward(kv, dqKernel, shape, options, x.Q, x.K, x.V, x.O, x.Lse, x.DO, x.DQ, x.DK, x.DV));
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

    /// <summary>
    /// Where the default backward's time goes, bf16 at 2k and 8k (or the given lengths): the whole call, then the preprocessing, the dK/dV kernel
    /// and the dQ kernel each alone (the whole call overlaps the last two on two streams).
    /// </summary>
    public static JsonArray Breakdown(CudaAttention cuda, int[]? lengths = null)
    {
        lengths ??= [2048, 8192];
        var rows = new JsonArray();
        using var buffers = new BackwardBuffers(cuda.Accelerator, (long)Tokens * ModelDim, Tokens * (ModelDim / 64), 31);
        Console.WriteLine("backward breakdown (bf16, ms): whole call, preprocessing, dK/dV alone, dQ alone");
        foreach (int d in new[] { 64, 128 })
            foreach (bool causal in new[] { false, true })
                foreach (int n in lengths)
                {
                    int b = Tokens / n, h = ModelDim / d;
                    var shape = new AttentionShape(b, n, n, h, d);
                    var options = new AttentionOptions { Causal = causal };
                    var set = CudaAttention.DefaultBackward(d, atomicDq: false);
                    var x = buffers.Cut(shape);
                    cuda.Forward(shape, x.Q, x.K, x.V, x.O, x.Lse, options);
                    double Time(CudaAttention.BackwardStages stages) => Bench.Median(cuda, () =>
                        cuda.Backward(set with { Stages = stages }, shape, options, x.Q, x.K, x.V, x.O, x.Lse, x.DO, x.DQ, x.DK, x.DV));
                    double all = Time(CudaAttention.BackwardStages.All), prep = Time(CudaAttention.BackwardStages.Prepare);
                    double kvOnly = Time(CudaAttention.BackwardStages.KeyValue), dqOnly = Time(CudaAttention.BackwardStages.Query);
                    // The same call with dropout 0.1 (the mask regenerated by Philox in both kernels; O and LSE need not match it for timing).
                    var dropOptions = options with { DropoutP = 0.1f, Seed = 5 };
                    double dropout = Bench.Median(cuda, () =>
                        cuda.Backward(set, shape, dropOptions, x.Q, x.K, x.V, x.O, x.Lse, x.DO, x.DQ, x.DK, x.DV));
                    double flops = 2.5 * 4.0 * b * h * n * (double)n * d / (causal ? 2 : 1);
                    string kvLabel = cuda.KvKernelLabel(shape, options, typeof(Bf16Kind)), dqLabel = cuda.DqKernelLabel(shape, options, typeof(Bf16Kind));
                    Console.WriteLine($"  D{d} {(causal ? "causal" : "full  ")} N{n,-6} all {all:F3}  prep {prep:F3}  dkdv {kvOnly:F3}  dq {dqOnly:F3}  ({flops / (all * 1e9):F1} TFLOP/s)  dropout0.1 {dropout:F3} ({flops / (dropout * 1e9):F1} TFLOP/s)  [{kvLabel} / {dqLabel}]");
                    rows.Add(new JsonObject
                    {
                        ["d"] = d, ["causal"] = causal, ["n"] = n, ["all_ms"] = Math.Round(all, 4), ["prepare_ms"] = Math.Round(prep, 4),
                        ["kv_ms"] = Math.Round(kvOnly, 4), ["dq_ms"] = Math.Round(dqOnly, 4), ["tflops"] = Math.Round(flops / (all * 1e9), 1),
                        ["dropout_ms"] = Math.Round(dropout, 4), ["dropout_tflops"] = Math.Round(flops / (dropout * 1e9), 1),
                        ["kv_kernel"] = kvLabel, ["dq_kernel"] = dqLabel,
                    });
                }
        return rows;
    }

    private static IEnumerable<(BackwardVariant Kv, BackwardVariant? Dq)> Pairs(int d, bool allVariants, IReadOnlySet<string>? named)
    {
        var split = CudaAttention.DefaultBackward(d, atomicDq: false);
        var fused = CudaAttention.DefaultBackward(d, atomicDq: true).Kv[0];
        yield return (split.Kv[0], split.Dq);
        if (fused.FusedDq)
            yield return (fused, null);
        if (!allVariants)
            yield break;
        foreach (var kv in BackwardKernels.KvVariants.Where(x => x.HeadDim == d && x.Outputs == KvOutputs.Both && x != fused && x != split.Kv[0] && (named is null || named.Contains(x.Name))))
            yield return (kv, kv.FusedDq ? null : split.Dq);
        foreach (var other in BackwardKernels.DqVariants.Where(x => x.HeadDim == d && x != split.Dq && (named is null || named.Contains(x.Name))))
            yield return (split.Kv[0], other);
    }
}
