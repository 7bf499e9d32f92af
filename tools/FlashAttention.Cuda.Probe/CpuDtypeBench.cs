using System.Diagnostics;
using FlashAttention;

namespace FlashAttention.Cuda.Probe;

/// <summary>
/// The CPU forward with the storage types interleaved, for the GPU machine's host CPU (its run-to-run spread is larger
/// than the differences asked about): per config, fp32, fp16 and bf16 in an order rotated by the round, each with the
/// shared float32 K/V copies (ConvertedKeyValues) widened in 16-row chunks, in tile-sized chunks (the default), and without them, each the median
/// and the minimum of <c>iters</c> calls after two warm-ups. Usage: probe cpu-dtypes ROUND ITERS [THREADS]. Alternate rounds with
/// PyTorch's CPU kernel (peers_gpu.py --no-gpu) so both see the same state of the host.
/// </summary>
internal static class CpuDtypeBench
{
    public static int Run(int round, int iters, int threads = -1)
    {
        (int H, int N, int D, bool Causal)[] configs = [(16, 2048, 64, false), (16, 2048, 64, true), (32, 4096, 128, true)];
        string[] dtypes = ["fp32", "fp16", "bf16"];
        foreach (var (h, n, d, causal) in configs)
        {
            var shape = new AttentionShape(1, n, n, h, d);
            var random = new Random(1);
            int length = n * h * d;
            float[] q = Uniform(random, length), k = Uniform(random, length), v = Uniform(random, length);
            float[] o = new float[length], lse = new float[h * n];
            Half[] qh = Array.ConvertAll(q, x => (Half)x), kh = Array.ConvertAll(k, x => (Half)x), vh = Array.ConvertAll(v, x => (Half)x), oh = new Half[length];
            BFloat16[] qb = Array.ConvertAll(q, x => (BFloat16)x), kb = Array.ConvertAll(k, x => (BFloat16)x), vb = Array.ConvertAll(v, x => (BFloat16)x), ob = new BFloat16[length];
            var options = new AttentionOptions { Causal = causal, MaxDegreeOfParallelism = threads };
            double flops = 4.0 * h * n * (double)n * d * (causal ? 0.5 : 1);
            string[] modes = ["shared-16-row-chunks", "shared", "per-block"];
            for (int j = 0; j < modes.Length * dtypes.Length; j++)
            {
                string dtype = dtypes[(j / modes.Length + round) % dtypes.Length];
                // Each dtype three times: the shared float32 K/V copies widened by the workers together in 16-row chunks,
                // the same with one chunk per K or V tile (the default: "shared"), and without sharing (widened per query
                // block); the order rotating with the round.
                string mode = modes[(j + round) % modes.Length];
                bool sharing = mode != "per-block";
                SetSharing(sharing, mode == "shared-16-row-chunks" ? 16 : 64);
                Action call = dtype switch
                {
                    "fp32" => () => Attention.Forward<float>(shape, q, k, v, o, lse, options),
                    "fp16" => () => Attention.Forward<Half>(shape, qh, kh, vh, oh, lse, options),
                    _ => () => Attention.Forward<BFloat16>(shape, qb, kb, vb, ob, lse, options),
                };
                call();
                call();
                var seconds = new double[iters];
                for (int i = 0; i < iters; i++)
                {
                    long start = Stopwatch.GetTimestamp();
                    call();
                    seconds[i] = Stopwatch.GetElapsedTime(start).TotalSeconds;
                }
                Array.Sort(seconds);
                long allocated = GC.GetTotalAllocatedBytes(true);
                call();
                allocated = GC.GetTotalAllocatedBytes(true) - allocated;
                SetSharing(true, 64);
                Console.WriteLine($"ours round {round} H={h} N={n} D={d} causal={causal} {dtype} {mode} median {flops / seconds[iters / 2] / 1e9:F1} " +
                                  $"best {flops / seconds[0] / 1e9:F1} GFLOP/s, {allocated / 1024.0:F0} KiB allocated per call");
            }
        }
        return 0;
    }

    /// <summary>The library's internal switch for the shared K/V copies (a diagnostic: by reflection, not public API).</summary>
    private static void SetSharing(bool enabled, int chunkRows)
    {
        var sharing = typeof(Attention).Assembly.GetType("FlashAttention.Cpu.Sharing", throwOnError: true)!;
        sharing.GetProperty("Enabled")!.SetValue(null, enabled);
        sharing.GetProperty("ChunkRows")!.SetValue(null, chunkRows);
    }

    private static float[] Uniform(Random random, int length)
    {
        var x = new float[length];
        for (int i = 0; i < x.Length; i++)
            x[i] = random.NextSingle() * 2 - 1;
        return x;
    }
}
