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
        string[] dtypes = ["fp32", "fp16", "bf16"];
        foreach (var (h, n, d, causal) in CpuStorageTypes.Configs)
        {
            var (calls, flops) = CpuStorageTypes.Calls(h, n, d, causal, threads);
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
                Action call = calls[Array.IndexOf(dtypes, dtype)];
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

    /// <summary>The shared K/V copies on or off, and their chunk size.</summary>
    private static void SetSharing(bool enabled, int chunkRows)
    {
        CpuStorageTypes.SetSharing("Enabled", enabled);
        CpuStorageTypes.SetSharing("ChunkRows", chunkRows);
    }
}
