using System.Diagnostics;
using FlashAttention;

namespace FlashAttention.Cuda.Probe;

/// <summary>
/// fp16 and bf16 storage against fp32, call by call: the three storage types alternate within one triple of adjacent
/// calls (the order rotating per triple), so a drift of the host's state over seconds, which is larger than the
/// differences asked about on the GPU machine's CPU, hits all three alike. Per config it prints the median of the
/// per-triple ratios, their interquartile range and how many triples had the 16-bit type at least as fast. Each
/// round runs every type twice, with and without widening the next K/V tile ahead (the library's Sharing.Lookahead),
/// so a round is six adjacent calls. Usage: probe cpu-pairs ROUNDS [THREADS].
/// </summary>
internal static class CpuDtypePairs
{
    public static int Run(int triples, int threads = -1)
    {
        foreach (var (h, n, d, causal) in CpuStorageTypes.Configs)
        {
            var (calls, flops) = CpuStorageTypes.Calls(h, n, d, causal, threads);
            for (int warm = 0; warm < 3; warm++)
                foreach (var call in calls)
                    call();
            // Arm a = type + 3·(lookahead off): six calls per round, the order rotating with the round.
            var seconds = new double[6, triples];
            for (int t = 0; t < triples; t++)
                for (int j = 0; j < 6; j++)
                {
                    int arm = (j + t) % 6;
                    SetLookahead(arm < 3);
                    long start = Stopwatch.GetTimestamp();
                    calls[arm % 3]();
                    seconds[arm, t] = Stopwatch.GetElapsedTime(start).TotalSeconds;
                }
            SetLookahead(true);
            string config = $"H={h} N={n} D={d} causal={causal}";
            string[] names = ["fp32", "fp16", "bf16", "fp32-nolookahead", "fp16-nolookahead", "bf16-nolookahead"];
            for (int arm = 0; arm < 6; arm++)
            {
                var own = Enumerable.Range(0, triples).Select(t => seconds[arm, t]).Order().ToArray();
                Console.WriteLine($"pairs {config} {names[arm]} median {flops / own[triples / 2] / 1e9:F1} best {flops / own[0] / 1e9:F1} GFLOP/s");
            }
            // Speed ratios within a round (> 1: the first arm faster than the second).
            foreach (var (fast, slow) in new[] { (1, 0), (2, 0), (4, 3), (5, 3), (0, 3), (1, 4), (2, 5) })
            {
                var ratios = Enumerable.Range(0, triples).Select(t => seconds[slow, t] / seconds[fast, t]).Order().ToArray();
                int atLeast = ratios.Count(r => r >= 1);
                Console.WriteLine($"pairs {config} {names[fast]}/{names[slow]} median {ratios[triples / 2]:F3} " +
                                  $"IQR {ratios[triples / 4]:F3}-{ratios[3 * triples / 4]:F3}, {atLeast}/{triples} rounds at least as fast");
            }
        }
        return 0;
    }

    private static void SetLookahead(bool enabled) => CpuStorageTypes.SetSharing("Lookahead", enabled);
}
