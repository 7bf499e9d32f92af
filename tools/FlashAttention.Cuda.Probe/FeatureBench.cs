using System.Text.Json.Nodes;
using FlashAttention.Cuda.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace FlashAttention.Cuda.Probe;

/// <summary>
/// The kernels the backend may pick for the register-hungry features, timed against each other with those features on:
/// for each head dim (64, 96, 128, 256), feature set (none, ALiBi, dropout 0.1, both, softcap 30), causal or not and
/// length, the forward candidates and the backward kernel pairs (the heavy defaults and the spill-free light kernels),
/// bf16, 16k tokens, about 2048 model dims. Median of CUDA event intervals of the whole call (as <see cref="Bench"/>
/// and <see cref="BackwardBench"/>).
/// </summary>
internal static class FeatureBench
{
    private const int Tokens = 16384, ModelDim = 2048;

    /// <summary>The forward kernels compared per head dim: the backend's pick for the features and the alternatives.</summary>
    private static readonly Dictionary<int, string[]> ForwardCandidates = new()
    {
        [64] = ["D64_M128_N64_W4", "D64_M128_N64_W4_LR", "D64_M128_N64_W4_QS"],
        [96] = ["D96_M128_N64_W4_QS_LR", "D96_M128_N64_W4_QS", "D96_M128_N32_W4_QS"],
        [128] = ["D128_M128_N64_W4_QS_LR_SE_AP", "D128_M128_N48_W4_QS_LR_SE", "D128_M128_N48_W4_QS", "D128_M128_N32_W4_QS"],
    };

    /// <summary>The backward kernel sets compared per head dim: heavy (the no-feature defaults) and light combinations.</summary>
    private static IEnumerable<(string Name, CudaAttention.BackwardKernelSet Set)> BackwardCandidates(int d, AttentionOptions options)
    {
        var picked = CudaAttention.DefaultBackward(d, atomicDq: false, options: options);
        BackwardVariant[] heavyKv = d switch
        {
            64 => [BackwardVariant.Find("DKV_D64_N64_M64_W4_KR")],
            96 => [BackwardVariant.Find("DKV_D96_N64_M64_W4")],
            128 => [BackwardVariant.Find("DKV_D128_N64_M64_W4_G2x2")],
            _ => [BackwardVariant.Find("DKV_D256_N64_M64_W4_DV"), BackwardVariant.Find("DKV_D256_N64_M32_W4_DK")],
        };
        var heavyDq = BackwardVariant.Find(d switch { 64 => "DQ_D64_M128_N32_W4", 96 => "DQ_D96_M128_N32_W4_QS", 128 => "DQ_D128_M128_N32_W4_QS", _ => "DQ_D256_M64_N32_W4_QS" });
        var lightDq = BackwardVariant.Find(d switch { 64 => "DQ_D64_M64_N32_W4", 96 => "DQ_D96_M64_N32_W4_QS", 128 => "DQ_D128_M64_N32_W4_QS", _ => "DQ_D256_M64_N16_W4_QS" });
        var sets = new List<(string, CudaAttention.BackwardKernelSet)>
        {
            ("heavy", new(heavyKv, heavyDq)),
            ("lightDq", new(heavyKv, lightDq)),
        };
        // D64: the two-m-tile dQ kernel with Q re-read from shared memory (0 B spill in every feature set under ptxas
        // 11.8; 3–9 % behind without features, run 26): with features it may beat the spilling default.
        if (d == 64)
            sets.Add(("qsDq", new(heavyKv, BackwardVariant.Find("DQ_D64_M128_N32_W4_QS"))));
        // D64/D128: 16-key dQ tiles, two m-tiles per warp (0 B under ptxas 11.8 in every feature set).
        if (d is 64 or 128)
            sets.Add(("n16Dq", new(heavyKv, BackwardVariant.Find(d == 64 ? "DQ_D64_M128_N16_W4" : "DQ_D128_M128_N16_W4_QS"))));
        if (d == 128)
        {
            var lightKv = new[] { BackwardVariant.Find("DKV_D128_N32_M64_W4_G2x2") };
            sets.Add(("lightKv", new(lightKv, heavyDq)));
            sets.Add(("lightBoth", new(lightKv, lightDq)));
        }
        // The backend's own pick (it may be one of the above; timed again under its own name, so a paired reading shows noise).
        sets.Add(("default", picked));
        return sets;
    }

    /// <summary>Times the candidates over the grid; one JSON row per timing.</summary>
    /// <param name="cuda">The backend.</param>
    /// <param name="lengths">Sequence lengths (tokens per sequence; the batch makes 16k tokens).</param>
    /// <param name="headDims">Head dims.</param>
    /// <param name="forwardOnly">Time the forward candidates only (the backward sets take most of the run).</param>
    public static JsonArray Run(CudaAttention cuda, int[] lengths, int[] headDims, bool forwardOnly = false)
    {
        var rows = new JsonArray();
        using var buffers = new BackwardBuffers(cuda.Accelerator, (long)Tokens * ModelDim, Tokens * (ModelDim / 32), 41);
        Console.WriteLine("feature bench: bf16, 16k tokens, ~2048 model dims, whole call, median of CUDA event intervals");
        Console.WriteLine($"{"pass",-3} {"D",4} {"causal",6} {"N",6} {"features",-14} {"kernels",-56} {"ms",9} {"TFLOP/s",8}");
        foreach (int d in headDims)
            foreach (bool causal in new[] { false, true })
                foreach (int n in lengths)
                {
                    int b = Tokens / n, h = ModelDim / d;
                    var shape = new AttentionShape(b, n, n, h, d);
                    // Head dim 96: 21 heads (2016 model dims), so the views are cut to the shape.
                    var views = buffers.Cut(shape);
                    double forwardFlops = 4.0 * b * h * n * (double)n * d / (causal ? 2 : 1);
                    float[] slopes = Enumerable.Range(1, h).Select(i => MathF.Pow(2, -8f * i / h)).ToArray();
                    foreach (var (featureName, extra) in new (string, AttentionOptions)[]
                             {
                                 ("none", new()),
                                 ("alibi", new() { AlibiSlopes = slopes }),
                                 ("dropout0.1", new() { DropoutP = 0.1f, Seed = 1 }),
                                 ("alibi+dropout", new() { AlibiSlopes = slopes, DropoutP = 0.1f, Seed = 1 }),
                                 ("softcap30", new() { Softcap = 30f }),
                             })
                    {
                        var options = extra with { Causal = causal };
                        var picked = CudaAttention.DefaultVariant(shape, options);
                        var forwards = (ForwardCandidates.TryGetValue(d, out var names) ? names.Select(ForwardVariant.Find) : [])
                            .Prepend(picked).Distinct();
                        foreach (var variant in forwards)
                            Time(rows, "fwd", d, causal, n, featureName, variant.Name + (variant == picked ? " (pick)" : ""), forwardFlops,
                                () => cuda.Forward(variant, shape, options, views.Q, views.K, views.V, views.O, views.Lse), cuda);
                        if (forwardOnly)
                            continue;
                        cuda.Forward(picked, shape, options, views.Q, views.K, views.V, views.O, views.Lse);
                        foreach (var (setName, set) in BackwardCandidates(d, options))
                            Time(rows, "bwd", d, causal, n, featureName, setName + " " + string.Join("+", set.Kv.Select(x => x.Name)) + "+" + set.Dq?.Name,
                                2.5 * forwardFlops,
                                () => cuda.Backward(set, shape, options, views.Q, views.K, views.V, views.O, views.Lse, views.DO, views.DQ, views.DK, views.DV), cuda);
                    }
                }
        return rows;
    }

    private static void Time(JsonArray rows, string pass, int d, bool causal, int n, string features, string kernels, double flops, Action launch, CudaAttention cuda)
    {
        var row = new JsonObject { ["pass"] = pass, ["d"] = d, ["causal"] = causal, ["n"] = n, ["features"] = features, ["kernels"] = kernels };
        try
        {
            double ms = Bench.Median(cuda, launch);
            double tflops = flops / (ms * 1e-3) / 1e12;
            row["ms"] = Math.Round(ms, 4);
            row["tflops"] = Math.Round(tflops, 1);
            Console.WriteLine($"{pass,-3} {d,4} {causal,6} {n,6} {features,-14} {kernels,-56} {ms,9:F3} {tflops,8:F1}");
        }
        catch (Exception e)
        {
            row["error"] = e.Message;
            Console.WriteLine($"{pass,-3} {d,4} {causal,6} {n,6} {features,-14} {kernels,-56} ERROR {e.Message}");
        }
        rows.Add(row);
    }
}
