using System.Text.Json.Nodes;
using FlashAttention.Cuda.Kernels;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace FlashAttention.Cuda.Probe;

/// <summary>
/// Forward TFLOP/s on FlashAttention's benchmark grid: bf16, batch·seqlen = 16k tokens, model dim 2048 (H = 2048/D),
/// seqlen 512..16k, D 64 and 128, causal and not; FLOPs = 4·B·H·N²·D, halved when causal. Times are the median of
/// per-launch CUDA event intervals after warm-up, on random (never zero) inputs.
/// </summary>
internal static class Bench
{
    private const int Tokens = 16384, ModelDim = 2048, Warmup = 3, Repeats = 15;

    public static JsonArray Run(CudaAttention cuda, IReadOnlyList<ForwardVariant> variants, int[] lengths, bool alsoFp16, bool features = true)
    {
        var rows = new JsonArray();
        long elements = (long)Tokens * ModelDim;
        var values = new[] { DeviceData.NormalParallel(elements, 11), DeviceData.NormalParallel(elements, 12), DeviceData.NormalParallel(elements, 13) };
        Console.WriteLine($"bench: {Tokens} tokens, model dim {ModelDim}, median of {Repeats} launches (CUDA events) after {Warmup} warm-up");
        Console.WriteLine($"{"dtype",-5} {"D",4} {"causal",6} {"N",6} {"B",4} {"H",4} {"kernel",-22} {"ms",9} {"TFLOP/s",8}");
        RunType<BFloat16>(cuda, variants, lengths, values, rows);
        if (alsoFp16)
            RunType<Half>(cuda, variants, [2048, 8192], values, rows);
        if (features)
            RunFeatures(cuda, values, rows);
        return rows;
    }

    private static void RunType<T>(CudaAttention cuda, IReadOnlyList<ForwardVariant> variants, int[] lengths, float[][] values, JsonArray rows)
        where T : unmanaged
    {
        var acc = cuda.Accelerator;
        using var q = DeviceData.Upload(acc, DeviceData.Convert<T>(values[0]));
        using var k = DeviceData.Upload(acc, DeviceData.Convert<T>(values[1]));
        using var v = DeviceData.Upload(acc, DeviceData.Convert<T>(values[2]));
        using var o = acc.Allocate1D<T>(q.Length);
        using var lse = acc.Allocate1D<float>(Tokens * (ModelDim / 64));
        foreach (int d in new[] { 64, 128 })
            foreach (bool causal in new[] { false, true })
                foreach (int n in lengths)
                {
                    int b = Tokens / n, h = ModelDim / d;
                    var shape = new AttentionShape(b, n, n, h, d);
                    var options = new AttentionOptions { Causal = causal };
                    double flops = 4.0 * b * h * n * (double)n * d / (causal ? 2 : 1);
                    foreach (var variant in variants.Where(x => x.HeadDim == d))
                    {
                        var row = new JsonObject
                        {
                            ["dtype"] = DeviceData.Name<T>(), ["d"] = d, ["causal"] = causal, ["n"] = n, ["b"] = b, ["h"] = h,
                            ["kernel"] = variant.Name,
                        };
                        try
                        {
                            void Launch() => cuda.Forward(variant, shape, options, q.View, k.View, v.View, o.View,
                                lse.View.SubView(0, shape.LseLength));
                            double ms = Median(cuda, Launch);
                            double tflops = flops / (ms * 1e-3) / 1e12;
                            row["ms"] = Math.Round(ms, 4);
                            row["tflops"] = Math.Round(tflops, 1);
                            Console.WriteLine($"{DeviceData.Name<T>(),-5} {d,4} {causal,6} {n,6} {b,4} {h,4} {variant.Name,-22} {ms,9:F3} {tflops,8:F1}");
                        }
                        catch (Exception e)
                        {
                            row["error"] = e.Message;
                            Console.WriteLine($"{DeviceData.Name<T>(),-5} {d,4} {causal,6} {n,6} {variant.Name,-22} ERROR {e.Message}");
                        }
                        rows.Add(row);
                    }
                }
    }

    /// <summary>The default kernels with ALiBi, dropout and both (bf16, 2k and 8k): what the optional features cost.</summary>
    private static void RunFeatures(CudaAttention cuda, float[][] values, JsonArray rows)
    {
        var acc = cuda.Accelerator;
        using var q = DeviceData.Upload(acc, DeviceData.Convert<BFloat16>(values[0]));
        using var k = DeviceData.Upload(acc, DeviceData.Convert<BFloat16>(values[1]));
        using var v = DeviceData.Upload(acc, DeviceData.Convert<BFloat16>(values[2]));
        using var o = acc.Allocate1D<BFloat16>(q.Length);
        using var lse = acc.Allocate1D<float>(Tokens * (ModelDim / 64));
        Console.WriteLine("bench: optional features, default kernels, bf16");
        foreach (int d in new[] { 64, 128 })
            foreach (bool causal in new[] { false, true })
                foreach (int n in new[] { 2048, 8192 })
                    foreach (var (name, extra) in new (string, AttentionOptions)[]
                             {
                                 ("alibi", new() { AlibiSlopes = Enumerable.Range(1, ModelDim / d).Select(i => MathF.Pow(2, -8f * i / (ModelDim / d))).ToArray() }),
                                 ("dropout0.1", new() { DropoutP = 0.1f, Seed = 1 }),
                             })
                    {
                        int b = Tokens / n, h = ModelDim / d;
                        var shape = new AttentionShape(b, n, n, h, d);
                        var options = extra with { Causal = causal };
                        double flops = 4.0 * b * h * n * (double)n * d / (causal ? 2 : 1);
                        // The kernel the backend picks for these options, and the plain default for comparison.
                        foreach (var variant in new[] { CudaAttention.DefaultVariant(shape, options), CudaAttention.DefaultVariant(shape, options with { AlibiSlopes = default, DropoutP = 0f }) }.Distinct())
                        {
                            double ms = Median(cuda, () => cuda.Forward(variant, shape, options, q.View, k.View, v.View, o.View, lse.View.SubView(0, shape.LseLength)));
                            double tflops = flops / (ms * 1e-3) / 1e12;
                            Console.WriteLine($"bf16  {d,4} {causal,6} {n,6} {b,4} {h,4} {variant.Name + "+" + name,-30} {ms,9:F3} {tflops,8:F1}");
                            rows.Add(new JsonObject
                            {
                                ["dtype"] = "bf16", ["d"] = d, ["causal"] = causal, ["n"] = n, ["b"] = b, ["h"] = h, ["kernel"] = variant.Name,
                                ["features"] = name, ["ms"] = Math.Round(ms, 4), ["tflops_features"] = Math.Round(tflops, 1),
                            });
                        }
                    }
    }

    /// <summary>Median milliseconds of one launch, each bracketed by CUDA events on the default stream.</summary>
    internal static double Median(CudaAttention cuda, Action launch)
    {
        for (int i = 0; i < Warmup; i++)
            launch();
        cuda.Synchronize();
        var api = CudaAPI.CurrentAPI;
        var stream = ((CudaStream)cuda.Accelerator.DefaultStream).StreamPtr;
        var events = new IntPtr[Repeats + 1];
        for (int i = 0; i < events.Length; i++)
            Ptx.CudaModule.Check(api.CreateEvent(out events[i], CudaEventFlags.CU_EVENT_DEFAULT), "cuEventCreate");
        Ptx.CudaModule.Check(api.RecordEvent(events[0], stream), "cuEventRecord");
        for (int i = 0; i < Repeats; i++)
        {
            launch();
            Ptx.CudaModule.Check(api.RecordEvent(events[i + 1], stream), "cuEventRecord");
        }
        Ptx.CudaModule.Check(api.SynchronizeEvent(events[^1]), "cuEventSynchronize");
        var times = new double[Repeats];
        for (int i = 0; i < Repeats; i++)
        {
            Ptx.CudaModule.Check(api.ElapsedTime(out float ms, events[i], events[i + 1]), "cuEventElapsedTime");
            times[i] = ms;
        }
        foreach (var e in events)
            api.DestroyEvent(e);
        Array.Sort(times);
        return times[Repeats / 2];
    }
}
